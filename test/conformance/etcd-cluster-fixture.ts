import { EtcdCluster, startEtcdCluster } from '../harness/etcd-cluster';
import type { TestServer } from '../harness/servers';
import { DriverFixture, etcdFixtureOn } from './driver-fixtures';

/** The etcd fixture on a 3-member cluster: the config lists every member, the driver may use any. */
export async function etcdClusterFixture(): Promise<DriverFixture> {
  const cluster = await startEtcdCluster(3);
  return etcdFixtureOn(wholeCluster(cluster), cluster.endpoints, () => cluster.stop());
}

/**
 * The suite's "server" is the whole cluster: its restart test needs etcd gone past a TTL, which one
 * member going away never does. Members start together, as none is healthy before a quorum is.
 */
function wholeCluster(cluster: EtcdCluster): TestServer {
  const kill = async () => void (await Promise.all(cluster.members.map((member) => member.kill())));
  const start = async () => void (await Promise.all(cluster.members.map((member) => member.start())));
  return {
    addr: cluster.endpoints[0],
    port: cluster.members[0].port,
    kill,
    start,
    async restart(downForMs = 0) {
      await kill();
      if (downForMs > 0) await new Promise((resolve) => setTimeout(resolve, downForMs));
      await start();
    },
    stop: () => cluster.stop(),
  };
}
