import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { FaultProxy } from '../harness/fault-proxy';
import { startRedis, TestServer } from '../harness/servers';
import { lockerConfig } from '../faults/environments';
import { LockerApp, startLockerApp } from './locker-app';

export interface ProxiedRedisApps {
  readonly server: TestServer;
  /** In front of the server for `proxied` only. */
  readonly proxy: FaultProxy;
  /** A plain client straight to the server, to read what it holds. */
  readonly inspector: Redis;
  /** A node that reaches the server through the proxy: the one the faults hit. */
  readonly proxied: LockerApp;
  /** A node on its own direct connection, which the proxy's faults do not reach. */
  readonly direct: LockerApp;
}

/** In the calling suite: a private redis-server, a fault proxy, an inspector and two nodes, up before the tests and stopped after. */
export function useProxiedRedisApps(): ProxiedRedisApps {
  const fixture = {} as { -readonly [K in keyof ProxiedRedisApps]: ProxiedRedisApps[K] };
  before(async () => {
    fixture.server = await startRedis();
    fixture.proxy = await FaultProxy.start(fixture.server.port);
    fixture.inspector = new Redis({ host: '127.0.0.1', port: fixture.server.port, maxRetriesPerRequest: 1 });
    fixture.inspector.on('error', () => undefined); // the server may be restarted
    fixture.proxied = await startLockerApp(lockerConfig('redis', { addr: fixture.proxy.addr }));
    fixture.direct = await startLockerApp(lockerConfig('redis', { addr: fixture.server.addr }));
  });
  after(async () => {
    fixture.proxy?.set({ kind: 'pass' });
    fixture.proxy?.refuseNewConnections(false);
    await fixture.proxied?.close();
    await fixture.direct?.close();
    fixture.inspector?.disconnect();
    await fixture.proxy?.close();
    await fixture.server?.stop();
  });
  return fixture;
}
