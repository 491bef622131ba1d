import { after, before } from 'node:test';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import type { LockerConfig } from 'nest-locker';
import { startEtcd, startRedis, TestServer } from '../harness/servers';
import type { LockerApp } from '../helpers/locker-app';

export type DriverName = 'memory' | 'redis' | 'etcd';
export const DRIVERS: DriverName[] = ['memory', 'redis', 'etcd'];

/** One backend for the bad-input tables: its config and a view of what its server holds. */
export interface Backend {
  readonly driver: DriverName;
  /** `[locker]` plus one locker section per entry of `prefixes` (name → key_prefix), all on one connection. */
  config(prefixes?: Record<string, string>): LockerConfig;
  /** Every lock name the server holds now (redis fence counters left out: they outlive locks by design). */
  serverLocks(app: LockerApp): Promise<string[]>;
  /** Whether `name` (from serverLocks) is the lock of `key` under `keyPrefix`, as the driver lays names out. */
  names(name: string, keyPrefix: string, key: string): boolean;
}

/** In the calling suite: the backend's private server, up before the tests and stopped after. */
export function useBackend(driver: DriverName): Backend {
  let server: TestServer | undefined;
  let redis: Redis | undefined;
  let etcd: Etcd3 | undefined;
  before(async () => {
    if (driver === 'redis') {
      server = await startRedis();
      redis = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1 });
    }
    if (driver === 'etcd') {
      server = await startEtcd();
      etcd = new Etcd3({ hosts: `http://${server.addr}` });
    }
  });
  after(async () => {
    redis?.disconnect();
    etcd?.close();
    await server?.stop();
  });
  const lockers = (prefixes: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(prefixes).map(([name, key_prefix]) => [
        name,
        { driver, driver_instance_id: driver, ...(key_prefix ? { key_prefix } : {}) },
      ]),
    );
  return {
    driver,
    config(prefixes = {}) {
      const connection = { memory: {}, redis: { addr: server?.addr }, etcd: { endpoints: [server?.addr] } }[driver];
      return { [driver]: connection, ...lockers({ locker: '', ...prefixes }) };
    },
    async serverLocks(app) {
      if (redis) return (await redis.keys('*')).filter((name) => !name.endsWith(':fence')).sort();
      if (etcd) return (await etcd.getAll().prefix('').keys()).sort();
      // the driver's queues (holders and waiters), each named '<namespace> <prefix><key>'
      const inner = app.driver('memory') as unknown as { queues: Map<string, unknown> };
      return [...inner.queues.keys()].sort();
    },
    names(name, keyPrefix, key) {
      if (driver === 'etcd') return name.startsWith(`${keyPrefix}${encodeURIComponent(key)}/`);
      // redis: the key is the hash tag, with '%', '{' and '}' percent-escaped so it cannot end the tag early
      if (driver === 'redis')
        return name === `${keyPrefix}{${key.replace(/[%{}]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)}}`;
      return name === `lock ${keyPrefix}${key}`;
    },
  };
}

/** The key_prefix a section without one gets. */
export const DEFAULT_PREFIX: Record<DriverName, string> = { memory: '', redis: 'nest-locker:', etcd: 'nest-locker/' };
