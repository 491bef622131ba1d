import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import type { LockerConfig } from 'nest-locker';
import { startRedis, TestServer } from '../harness/servers';
import { LockerApp, startLockerApp } from './locker-app';

export interface RedisAppFixture {
  readonly server: TestServer;
  /** A plain client, to read what the server holds. */
  readonly inspector: Redis;
  /** A Nest app (one node) using the server. */
  readonly app: LockerApp;
  /** The config every node on this server uses. */
  config(): LockerConfig;
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
