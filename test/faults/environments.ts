import type { LockerConfig } from 'nest-locker';
import { FaultProxy } from '../harness/fault-proxy';
import { startEtcd, startRedis, TestServer } from '../harness/servers';

export type FaultDriver = 'redis' | 'etcd';

/** Servers (and proxies) for every run of one scenario, and the config each worker connects with. */
export interface FaultEnvironment {
  readonly driver: FaultDriver;
  /** The single server, where there is one. */
  readonly server?: TestServer;
  /** One proxy per worker, when the scenario cuts connections. */
  readonly proxies: FaultProxy[];
  workerConfig(index: number): LockerConfig;
  close(): Promise<void>;
}

export function lockerConfig(driver: FaultDriver, connection: Record<string, unknown>): LockerConfig {
  return { [driver]: connection, locker: { driver, driver_instance_id: driver } };
}

const connectionTo = (driver: FaultDriver, addr: string) => (driver === 'redis' ? { addr } : { endpoints: [addr] });

/** One private server; with `proxied`, each worker reaches it through its own fault proxy. */
export async function singleServer(driver: FaultDriver, workers: number, proxied = false): Promise<FaultEnvironment> {
  const server = driver === 'redis' ? await startRedis() : await startEtcd();
  const proxies = proxied ? await Promise.all(Array.from({ length: workers }, () => FaultProxy.start(server.port))) : [];
  return {
    driver,
    server,
    proxies,
    workerConfig: (index) => lockerConfig(driver, connectionTo(driver, proxied ? proxies[index].addr : server.addr)),
    async close() {
      await Promise.all(proxies.map((proxy) => proxy.close()));
      await server.stop();
    },
  };
}
