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
}

/** `[etcd]` as in the seed's app.toml. */
export interface EtcdConnectionConfig {
  /** `host:port` or URLs. */
  endpoints: string[];
  username?: string;
  password?: string;
  /** Connect timeout at startup, ms. @default 5000 */
  connect_timeout?: number;
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
