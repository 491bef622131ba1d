import { Etcd3, IOptions } from 'etcd3';
import { Redis } from 'ioredis';
import type { LockerConfig } from 'nest-locker';
import type { LockerDriver, LockNamespace } from 'nest-locker/driver-kit';
import { RedisServerOptions, startEtcd, startRedis, TestServer } from '../harness/servers';

/** What the backend holds for one lock key, read from the server itself. */
export interface ServerState {
  /** Holder plus queued entries. */
  entries: number;
  /** Release subscriptions still open (redis). */
  subscriptions: number;
}

export interface DriverFixture {
  readonly driver: 'memory' | 'redis' | 'etcd';
  /** Absent for memory. */
  readonly server?: TestServer;
  /** A TTL the backend honours precisely enough for expiry tests (etcd leases have 1 s granularity). */
  readonly shortTtl: number;
  /** The seed-shaped config: a connection section and a `[locker]` section. */
  config(): LockerConfig;
  /** What the server holds for `key` in `namespace` (default: the mutex's). */
  state(key: string, driver: LockerDriver, namespace?: LockNamespace): Promise<ServerState>;
  close(): Promise<void>;
}

export async function memoryFixture(): Promise<DriverFixture> {
  return {
    driver: 'memory',
    shortTtl: 400,
    config: () => ({ locker: { driver: 'memory', driver_instance_id: 'memory' } }),
    async state(key, driver, namespace = 'lock') {
      // the driver's queue of the key (holders and waiters) in the namespace
      const inner = driver as unknown as { queues: Map<string, unknown[]> };
      return { entries: inner.queues.get(`${namespace} ${key}`)?.length ?? 0, subscriptions: 0 };
    },
    close: async () => undefined,
  };
}

/** How the driver reaches its server, beyond the address: an ACL user, TLS (the inspector is always the admin). */
export interface FixtureAccess<S> {
  server?: S;
  /** Fields added to the connection section. */
  connection?: Record<string, unknown>;
}

export async function redisFixture(access: FixtureAccess<RedisServerOptions> = {}): Promise<DriverFixture> {
  const server = await startRedis(access.server);
  const inspector = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  inspector.on('error', () => undefined);
  return {
    driver: 'redis',
    server,
    shortTtl: 400,
    config: () => ({
      redis: { addr: server.addr, db: 0, max_idle: 5, idle_timeout: 30, ...access.connection },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
    }),
    async state(key, _driver, namespace = 'lock') {
      const tagged = namespace === 'lock' ? `nest-locker:{${key}}` : `nest-locker:${namespace}:{${key}}`;
      // the exclusive holder (a mutex's, a writer's), the shared holders (permits, readers: live ones), the queue
      const [held, shared, queued] = await Promise.all([
        inspector.exists(tagged),
        inspector.eval(
          "local t = redis.call('TIME') return redis.call('ZCOUNT', KEYS[1], '(' .. (t[1] * 1000 + math.floor(t[2] / 1000)), '+inf')",
          1,
          `${tagged}:holders`,
        ) as Promise<number>,
        inspector.llen(`${tagged}:queue`),
      ]);
      const [, subscriptions] = (await inspector.pubsub('NUMSUB', `${tagged}:released`)) as [string, number];
      return { entries: held + shared + queued, subscriptions: Number(subscriptions) };
    },
    async close() {
      inspector.disconnect();
      await server.stop();
    },
  };
}

export async function etcdFixture(): Promise<DriverFixture> {
  const server = await startEtcd();
  return etcdFixtureOn(server, [server.addr], () => server.stop());
}

/**
 * The etcd fixture on any etcd: one server, or a cluster whose members `endpoints` lists. With auth on,
 * `inspector` gives the root user's options.
 */
export function etcdFixtureOn(
  server: TestServer,
  endpoints: string[],
  stop: () => Promise<void>,
  access: { connection?: Record<string, unknown>; inspector?: Partial<IOptions> } = {},
): DriverFixture {
  const inspector = new Etcd3({ hosts: endpoints.map((endpoint) => `http://${endpoint}`), ...access.inspector });
  return {
    driver: 'etcd',
    server,
    shortTtl: 2000,
    config: () => ({ etcd: { endpoints, ...access.connection }, locker: { driver: 'etcd', driver_instance_id: 'etcd' } }),
    async state(key, _driver, namespace = 'lock') {
      const lockPrefix =
        namespace === 'lock' ? `nest-locker/${encodeURIComponent(key)}/` : `nest-locker/${namespace}:${encodeURIComponent(key)}/`;
      const entries = await inspector.getAll().prefix(lockPrefix).count();
      return { entries, subscriptions: 0 };
    },
    async close() {
      inspector.close();
      await stop();
    },
  };
}
