import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import type { LockerConfig } from 'nest-locker';
import { startRedis, TestServer } from '../harness/servers';
import { LockerApp, startLockerApp } from './locker-app';
import { eventually } from './wait';

export interface RedisAppFixture {
  readonly server: TestServer;
  /** A plain client, to read what the server holds. */
  readonly inspector: Redis;
  /** A Nest app (one node) using the server. */
  readonly app: LockerApp;
  /** The config every node on this server uses. */
  config(): LockerConfig;
  /** Waits up to 10 s for `length` waiters in the server's queue of the lock `key` (a mutex); the length last seen. */
  waitForQueue(key: string, length: number): Promise<number>;
}

/** In the calling suite: a private redis-server, an inspector and one app, up before the tests and stopped after. */
export function useRedisApp(): RedisAppFixture {
  let server: TestServer;
  let inspector: Redis;
  let app: LockerApp;
  const fixture: RedisAppFixture = {
    get server() {
      return server;
    },
    get inspector() {
      return inspector;
    },
    get app() {
      return app;
    },
    config: () => ({ redis: { addr: server.addr }, locker: { driver: 'redis', driver_instance_id: 'redis' } }),
    waitForQueue: (key, length) =>
      eventually(
        () => inspector.llen(`nest-locker:{${key}}:queue`),
        (queued) => queued === length,
        10_000,
      ),
  };
  before(async () => {
    server = await startRedis();
    inspector = new Redis({ host: '127.0.0.1', port: server.port });
    app = await startLockerApp(fixture.config());
  });
  after(async () => {
    await app?.close();
    inspector?.disconnect();
    await server?.stop();
  });
  return fixture;
}
