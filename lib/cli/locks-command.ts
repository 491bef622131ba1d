import { parseArgs } from 'node:util';
import { loadLockerConfig } from '../config/load-locker-config';
import { resolveLockerConfig } from '../config/resolve-locker-config';
import { LockerConfigError } from '../errors';
import type { LockerDriver } from '../interfaces/locker-driver.interface';
import { operatorMethod } from '../inspection/locker-inspection';
import { didYouMean } from '../utils/closest-name';
import { CONNECTION_ONLY_FLAGS, connectionConfig, FLAG_OF_FIELD, UsageError } from './connection-flags';
import { lockInfoJson, locksTable } from './locks-table';

export { UsageError } from './connection-flags';

export const HELP = `Usage: nest-locker locks --config <app.toml> [--locker <section>] [--prefix <p>] [--json]
       nest-locker locks --redis <host:port> [--user <name>] [-a <password>] [--tls ...] [--prefix <p>] [--json]
       nest-locker locks --etcd <host:port>[,<host:port>...] [--user <name>[:<password>]] [--cacert <file>] ...

Lists the locks held now on the server of a locker section, whoever holds them.

Where to look (one of):
  --config <file>        the app's TOML config (as loadLockerConfig reads it)
  --locker <section>     with --config: the locker section whose driver and key_prefix to use   default: locker
  --redis <host:port>    one redis server (for Cluster or Sentinel, use --config)
  --etcd <endpoints>     etcd members, host:port or URLs, separated by commas

With --redis or --etcd, the connection, as redis-cli and etcdctl take it:
  --key-prefix <p>       the apps' key_prefix   default: nest-locker: (redis), nest-locker/ (etcd)
  --user <name>          ACL user (redis) or etcd user; etcd also takes <name>:<password>   env: ETCDCTL_USER
  -a, --pass <password>  its password (also --password)   env: REDISCLI_AUTH (redis), ETCDCTL_PASSWORD (etcd)
  --tls                  TLS, verified against the system CAs; implied by any of the four below
  --cacert <file>        PEM bundle of the CA(s) that verify the server      env (etcd): ETCDCTL_CACERT
  --cert <file>          client certificate, for mutual TLS (with --key)     env (etcd): ETCDCTL_CERT
  --key <file>           its private key                                     env (etcd): ETCDCTL_KEY
  --sni <name>           the name the server's certificate must carry, when it differs from the address
  Flags win over the environment; a password on the command line is visible to other users of the machine.

Output:
  --prefix <p>           only keys that start with <p>
  --json                 a JSON array of {key, kind, fencingToken (a string), ttlLeftMs, holder: {id, host, pid},
                         waiting?, holders? (permits and read locks: every holder), value? (a leader's)}
  -h, --help             this text

Columns: KEY, KIND (lock, permit, read, write, leader), HOST and PID of the holder, TOKEN (fencing token),
TTL LEFT (of the lease on the server), WAITING (waiters where the driver knows: etcd every waiter, redis one
per waiting process; "-" otherwise), and VALUE (what a leader proclaimed; shown when one did). A key with
several holders (permits, readers) has a row per holder.
Exit codes: 0 listed; 1 the server failed: not reached in time, refused the login or the TLS handshake, or
failed the listing; 2 bad usage: a flag, the config file, a section.`;

/** The server could not be reached, refused us, or failed the listing: exit code 1. */
export class ServerFailure extends Error {}

export interface CommandOutput {
  stdout: string;
}

/** Runs `nest-locker <argv>`; throws UsageError (or LockerConfigError) for bad usage, ServerFailure for the server's. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env): Promise<CommandOutput> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see nest-locker --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { stdout: HELP };
  if (positionals[0] !== 'locks' || positionals.length > 1) {
    const got = positionals.length ? `"${positionals.join(' ')}"` : 'no command';
    throw new UsageError(`expected the command "locks", got ${got} (see nest-locker --help)`);
  }
  const { config, sectionName, source } = configOf(values, env);
  const section = config.lockers.get(sectionName);
  if (!section) {
    const known = [...config.lockers.keys()];
    throw new UsageError(
      `no locker section [${sectionName}] in ${source}${didYouMean(sectionName, known)}; expected one of ${known.join(', ') || '(none)'}`,
    );
  }
  const spec = config.instances.get(section.driverInstanceId);
  if (!spec) throw new UsageError(`no connection section [${section.driverInstanceId}] for locker section [${sectionName}]`);
  // From here on, what fails is the server's doing (or the network's): not reached, login or TLS refused.
  let driver: LockerDriver;
  try {
    driver = await spec.factory.create(spec.settings, { instanceId: spec.instanceId, events: () => undefined });
  } catch (error) {
    throw new ServerFailure((error as Error)?.message ?? String(error), { cause: error });
  }
  try {
    const list = operatorMethod(driver, section, 'list');
    const prefix = values.prefix ?? '';
    let locks;
    try {
      locks = (await list(section.keyPrefix)).filter((lock) => lock.key.startsWith(prefix));
    } catch (error) {
      throw new ServerFailure((error as Error)?.message ?? String(error), { cause: error });
    }
    if (values.json) return { stdout: JSON.stringify(locks.map(lockInfoJson), null, 2) };
    return {
      stdout: locks.length ? locksTable(locks) : `No locks held in [${sectionName}]${prefix ? ` with keys starting "${prefix}"` : ''}.`,
    };
  } finally {
    await driver.close();
  }
}

/** The resolved config, from --config or from --redis / --etcd and their connection flags. */
function configOf(values: ReturnType<typeof parse>['values'], env: Record<string, string | undefined>) {
  const sources = (['config', 'redis', 'etcd'] as const).filter((flag) => values[flag] !== undefined);
  if (sources.length !== 1) {
    const given = sources.length ? `got ${sources.map((flag) => `--${flag}`).join(' and ')}` : 'got none';
    throw new UsageError(
      `expected one of --config <app.toml>, --redis <host:port> or --etcd <endpoints>, ${given} (see nest-locker --help)`,
    );
  }
  if (values.config !== undefined) {
    const stray = CONNECTION_ONLY_FLAGS.filter((flag) => values[flag] !== undefined);
    if (stray.length) {
      throw new UsageError(
        `--${stray[0]} goes with --redis or --etcd; with --config, the file's connection section has it (see nest-locker --help)`,
      );
    }
    return { config: resolveLockerConfig(loadLockerConfig(values.config)), sectionName: values.locker ?? 'locker', source: values.config };
  }
  if (values.locker !== undefined)
    throw new UsageError(`--locker goes with --config; --${sources[0]} has one section (see nest-locker --help)`);
  try {
    return { config: resolveLockerConfig(connectionConfig(values, env)), sectionName: 'locker', source: `--${sources[0]}` };
  } catch (error) {
    if (!(error instanceof LockerConfigError)) throw error;
    // named as the flag the user typed: "--cacert: [redis.tls] ca_file: cannot read ..."
    const flag = (error.field !== undefined && FLAG_OF_FIELD[error.field]) || `--${sources[0]}`;
    throw new UsageError(`${flag}: ${error.message}`, { cause: error });
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      locker: { type: 'string', short: 'l' },
      prefix: { type: 'string', short: 'p' },
      json: { type: 'boolean' },
      redis: { type: 'string' },
      etcd: { type: 'string' },
      'key-prefix': { type: 'string' },
      user: { type: 'string' },
      pass: { type: 'string', short: 'a' },
      password: { type: 'string' },
      tls: { type: 'boolean' },
      cacert: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      sni: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Bad usage (exit code 2) or a failure of the server (1)? */
export const isUsageError = (error: unknown): boolean => error instanceof UsageError || error instanceof LockerConfigError;
