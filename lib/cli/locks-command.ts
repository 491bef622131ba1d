import { parseArgs } from 'node:util';
import { loadLockerConfig } from '../config/load-locker-config';
import { resolveLockerConfig } from '../config/resolve-locker-config';
import { LockerConfigError } from '../errors';
import type { LockerDriver } from '../interfaces/locker-driver.interface';
import { operatorMethod } from '../inspection/locker-inspection';
import { didYouMean } from '../utils/closest-name';
import { lockInfoJson, locksTable } from './locks-table';

export const HELP = `Usage: nest-locker locks --config <app.toml> [--locker <section>] [--prefix <p>] [--json]

Lists the locks held now on the server of a locker section, whoever holds them.

  --config <file>     the app's TOML config (as loadLockerConfig reads it)         required
  --locker <section>  the locker section whose driver and key_prefix to use       default: locker
  --prefix <p>        only keys that start with <p>
  --json              a JSON array of {key, kind, fencingToken (a string), ttlLeftMs, holder: {id, host, pid},
                      waiting?, holders? (permits and read locks: every holder), value? (a leader's)}
  -h, --help          this text

Columns: KEY, KIND (lock, permit, read, write, leader), HOST and PID of the holder, TOKEN (fencing token),
TTL LEFT (of the lease on the server), WAITING (waiters where the driver knows: etcd every waiter, redis one
per waiting process; "-" otherwise), and VALUE (what a leader proclaimed; shown when one did). A key with
several holders (permits, readers) has a row per holder.
Exit codes: 0 listed, 1 the server failed, 2 bad usage or config.`;

/** A mistake of the caller's (flag, config, section): exit code 2. */
export class UsageError extends Error {}

export interface CommandOutput {
  stdout: string;
}

/** Runs `nest-locker <argv>`; throws UsageError (or LockerConfigError) for bad usage, anything else for server failures. */
export async function runCli(argv: string[]): Promise<CommandOutput> {
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
  if (!values.config) throw new UsageError('--config <app.toml> is required (see nest-locker --help)');
  const config = resolveLockerConfig(loadLockerConfig(values.config));
  const sectionName = values.locker ?? 'locker';
  const section = config.lockers.get(sectionName);
  if (!section) {
    const known = [...config.lockers.keys()];
    throw new UsageError(
      `no locker section [${sectionName}] in ${values.config}${didYouMean(sectionName, known)}; expected one of ${known.join(', ') || '(none)'}`,
    );
  }
  const spec = config.instances.get(section.driverInstanceId);
  if (!spec) throw new UsageError(`no connection section [${section.driverInstanceId}] for locker section [${sectionName}]`);
  const driver: LockerDriver = await spec.factory.create(spec.settings, { instanceId: spec.instanceId, events: () => undefined });
  try {
    const list = operatorMethod(driver, section, 'list');
    const prefix = values.prefix ?? '';
    const locks = (await list(section.keyPrefix)).filter((lock) => lock.key.startsWith(prefix));
    if (values.json) return { stdout: JSON.stringify(locks.map(lockInfoJson), null, 2) };
    return {
      stdout: locks.length ? locksTable(locks) : `No locks held in [${sectionName}]${prefix ? ` with keys starting "${prefix}"` : ''}.`,
    };
  } finally {
    await driver.close();
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
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Bad usage (exit code 2) or a failure of the server (1)? */
export const isUsageError = (error: unknown): boolean => error instanceof UsageError || error instanceof LockerConfigError;
