import { after, before } from 'node:test';
import { Etcd3 } from 'etcd3';
import { DriverFixture, etcdFixture } from '../conformance/driver-fixtures';
import { lockerConfig } from '../faults/environments';
import { FaultProxy } from '../harness/fault-proxy';
import { LockerApp, startLockerApp } from './locker-app';

export interface EtcdAppFixture {
  /** The private etcd, and what it holds for a key. */
  readonly etcd: DriverFixture;
  /** A plain client straight to the server: an operator, or another node. */
  readonly inspector: Etcd3;
  /** Between the app and the server, when asked for. */
  readonly proxy: FaultProxy;
  /** A Nest app (one node) using the server, through the proxy when there is one. */
  readonly app: LockerApp;
}

/**
 * In the calling suite: a private etcd, an inspector and one app (through a fault proxy with `proxied`),
 * up before the tests and stopped after. `connection` adds fields to the app's `[etcd]` section.
 */
export function useEtcdApp(options: { proxied?: boolean; connection?: Record<string, unknown> } = {}): EtcdAppFixture {
  let etcd: DriverFixture;
  let inspector: Etcd3;
  let proxy: FaultProxy | undefined;
  let app: LockerApp;
  before(async () => {
    etcd = await etcdFixture();
    inspector = new Etcd3({ hosts: `http://${etcd.server!.addr}` });
    proxy = options.proxied ? await FaultProxy.start(etcd.server!.port) : undefined;
    const endpoint = proxy?.addr ?? etcd.server!.addr;
    app = await startLockerApp(lockerConfig('etcd', { endpoints: [endpoint], ...options.connection }));
  });
  after(async () => {
    proxy?.set({ kind: 'pass' });
    await app?.close();
    inspector?.close();
    await proxy?.close();
    await etcd?.close();
  });
  return {
    get etcd() {
      return etcd;
    },
    get inspector() {
      return inspector;
    },
    get proxy() {
      if (!proxy) throw new Error('useEtcdApp({ proxied: true }) for a proxy');
      return proxy;
    },
    get app() {
      return app;
    },
  };
}
