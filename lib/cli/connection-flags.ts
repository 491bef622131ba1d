// `nest-locker locks --redis host:port` / `--etcd host:port[,host:port]`: the connection given as flags and
// environment variables, the way redis-cli and etcdctl take them, turned into the config LockerModule reads.
import type { LockerConfig } from '../interfaces/locker-config.interface';

/** A mistake of the caller's (flag, config, section): exit code 2. */
export class UsageError extends Error {}

/** The flags of one connection given on the command line (parseArgs values). */
export interface ConnectionFlags {
  redis?: string;
  etcd?: string;
  'key-prefix'?: string;
  user?: string;
  pass?: string;
  password?: string;
  tls?: boolean;
  cacert?: string;
  cert?: string;
  key?: string;
  sni?: string;
}

/** Flags that only make sense with --redis or --etcd: with --config, the file's section says all that. */
export const CONNECTION_ONLY_FLAGS = ['key-prefix', 'user', 'pass', 'password', 'tls', 'cacert', 'cert', 'key', 'sni'] as const;

/** The config field each flag becomes, so that a refused field is reported as the flag the user typed. */
export const FLAG_OF_FIELD: Record<string, string> = {
  addr: '--redis',
  endpoints: '--etcd',
  key_prefix: '--key-prefix',
  username: '--user',
  auth: '--pass',
  password: '--pass',
  tls: '--tls',
  ca_file: '--cacert',
  cert_file: '--cert',
  key_file: '--key',
  server_name: '--sni',
};

type Env = Record<string, string | undefined>;

/** The locker config for `--redis` or `--etcd` (exactly one given), with its single locker section `locker`. */
export function connectionConfig(flags: ConnectionFlags, env: Env): LockerConfig {
  const driver = flags.redis !== undefined ? 'redis' : 'etcd';
  const connection = driver === 'redis' ? redisSection(flags, env) : etcdSection(flags, env);
  const locker: Record<string, string> = { driver, driver_instance_id: driver };
  if (flags['key-prefix'] !== undefined) locker.key_prefix = flags['key-prefix'];
  return { [driver]: connection, locker };
}

/** redis-cli: `--user`, `-a`/`--pass` (or REDISCLI_AUTH), `--tls`, `--cacert`, `--cert`, `--key`, `--sni`. */
function redisSection(flags: ConnectionFlags, env: Env): Record<string, unknown> {
  const password = flags.pass ?? flags.password ?? nonEmpty(env.REDISCLI_AUTH);
  if (flags.user !== undefined && password === undefined) {
    throw new UsageError('--user needs a password: -a/--pass <password> or REDISCLI_AUTH (see nest-locker --help)');
  }
  const section: Record<string, unknown> = { addr: flags.redis };
  if (password !== undefined) section.auth = password;
  if (flags.user !== undefined) section.username = flags.user;
  const tls = tlsTable(flags, {}, flags.tls === true);
  if (tls !== undefined) section.tls = tls;
  return section;
}

/**
 * etcdctl: `--user <name>[:<password>]`, `--password`, `--cacert`, `--cert`, `--key` (TLS when any is given,
 * or with `--tls`), and ETCDCTL_USER, ETCDCTL_PASSWORD, ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY.
 */
function etcdSection(flags: ConnectionFlags, env: Env): Record<string, unknown> {
  const endpoints = (flags.etcd ?? '').split(',').map((endpoint) => endpoint.trim());
  if (endpoints.some((endpoint) => endpoint === '')) {
    throw new UsageError(`--etcd expects host:port[,host:port...], got "${flags.etcd}" (see nest-locker --help)`);
  }
  const section: Record<string, unknown> = { endpoints };
  const userFlag = flags.user ?? nonEmpty(env.ETCDCTL_USER);
  if (userFlag !== undefined) {
    const colon = userFlag.indexOf(':');
    const username = colon === -1 ? userFlag : userFlag.slice(0, colon);
    const password =
      (colon === -1 ? undefined : userFlag.slice(colon + 1)) ?? flags.pass ?? flags.password ?? nonEmpty(env.ETCDCTL_PASSWORD);
    if (password === undefined) {
      throw new UsageError('--user needs a password: --user <name>:<password>, --password or ETCDCTL_PASSWORD (see nest-locker --help)');
    }
    Object.assign(section, { username, password });
  } else if ((flags.pass ?? flags.password) !== undefined) {
    throw new UsageError('--password needs --user <name> (or ETCDCTL_USER) for etcd (see nest-locker --help)');
  }
  const fromEnv = { cacert: nonEmpty(env.ETCDCTL_CACERT), cert: nonEmpty(env.ETCDCTL_CERT), key: nonEmpty(env.ETCDCTL_KEY) };
  const tls = tlsTable(flags, fromEnv, flags.tls === true);
  if (tls !== undefined) section.tls = tls;
  return section;
}

/** The section's `tls`: a table when a file or name is given, `true` for `--tls` alone, none otherwise. */
function tlsTable(flags: ConnectionFlags, fromEnv: Pick<ConnectionFlags, 'cacert' | 'cert' | 'key'>, tlsFlag: boolean) {
  const table: Record<string, string> = {};
  const files = { ca_file: flags.cacert ?? fromEnv.cacert, cert_file: flags.cert ?? fromEnv.cert, key_file: flags.key ?? fromEnv.key };
  for (const [field, value] of Object.entries({ ...files, server_name: flags.sni })) if (value !== undefined) table[field] = value;
  if (Object.keys(table).length > 0) return table;
  return tlsFlag ? true : undefined;
}

/** An environment variable set to something: an empty one counts as not set. */
const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);
