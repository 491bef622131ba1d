/** A locker section, e.g. `[locker]`: which driver, on which connection section. */
export interface LockerSectionConfig {
  /** `redis`, `etcd`, `memory`, or the name of a driver registered with `registerLockerDriver`. */
  driver: string;
  /** The name of the connection section the driver uses, e.g. `redis` for `[redis]`. */
  driver_instance_id: string;
  /**
   * Prefix of every key this section writes on the server, so that sections and apps do not collide.
   * @default 'nest-locker:' (redis), 'nest-locker/' (etcd)
   */
  key_prefix?: string;
}

/**
 * `[<section>.tls]`: TLS with files. Each path is read at bootstrap; one that cannot be read fails there,
 * naming the field and the path.
 */
interface TlsConfig {
  /** PEM bundle of the CA(s) that verify the server. @default the system CAs */
  ca_file?: string;
  /** Client certificate (mutual TLS), with `key_file`. */
  cert_file?: string;
  /** Key of `cert_file`. */
  key_file?: string;
  /** The name the server's certificate must carry, when it differs from the address. */
  server_name?: string;
}

/**
 * `client` of a connection section: an app's own ioredis `Redis`/`Cluster` or etcd3 `Etcd3` (object config
 * only), used as given and never closed by nest-locker. Typed loosely so that this package's declarations
 * need neither peer; the kind is checked at bootstrap.
 */
type AppClient = object;

/**
 * `[redis]` as in the seed's app.toml. Exactly one of `addr` (one server), `cluster` (Redis Cluster) or
 * `sentinels` with `master_name` (the master Redis Sentinel names).
 */
export interface RedisConnectionConfig {
  /** `host:port` of one server. */
  addr?: string;
  /** Redis Cluster: `host:port` of some of its nodes; the rest are discovered. Only `db = 0`. */
  cluster?: string[];
  /** Redis Sentinel: `host:port` of the sentinels, which name the current master; needs `master_name`. */
  sentinels?: string[];
  /** The name the sentinels monitor the master under (`sentinel monitor <name> ...`). */
  master_name?: string;
  /** Password (AUTH). */
  auth?: string;
  /** ACL user name. */
  username?: string;
  /** @default 0 */
  db?: number;
  /** Accepted for seed compatibility; ioredis multiplexes one connection, so it has no effect. */
  max_idle?: number;
  /** Accepted for seed compatibility; no effect (see `max_idle`). */
  idle_timeout?: number;
  /** Connect timeout at startup, ms. @default 5000 */
  connect_timeout?: number;
  /** Sentinel only: the sentinels' own password (`requirepass` in their config). */
  sentinel_auth?: string;
  /** Sentinel only: the sentinels' ACL user. */
  sentinel_username?: string;
  /** `true`: TLS verified against the system CAs; a table: TLS with these files. Also for Cluster and Sentinel. @default false */
  tls?: boolean | TlsConfig;
  /** The app's own ioredis `Redis` or `Cluster`, alone in its section; see {@link AppClient}. */
  client?: AppClient;
}

/** `[etcd]` as in the seed's app.toml. */
export interface EtcdConnectionConfig {
  /** `host:port` or `http(s)://` URLs; bare addresses get `https://` with `tls`. */
  endpoints?: string[];
  username?: string;
  password?: string;
  /** Connect timeout at startup, ms. @default 5000 */
  connect_timeout?: number;
  /** As for redis; `https://` endpoints without it are verified against the system CAs. @default false */
  tls?: boolean | TlsConfig;
  /** The app's own etcd3 `Etcd3`, alone in its section (then without `endpoints`); see {@link AppClient}. */
  client?: AppClient;
}

/**
 * The seed-shaped config: connection sections and locker sections by name. Sections not referenced by a
 * locker section are ignored, so a whole parsed app.toml can be passed.
 */
export type LockerConfig = Record<string, LockerSectionConfig | RedisConnectionConfig | EtcdConnectionConfig | Record<string, unknown>>;

export interface LockerModuleOptions {
  /** Register the module globally. @default true */
  isGlobal?: boolean;
  /** How long shutdown waits for running `withLock` bodies before releasing their locks, ms. @default 10_000 */
  shutdownTimeout?: number;
}
