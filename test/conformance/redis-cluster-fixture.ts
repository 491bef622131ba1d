import { Cluster } from 'ioredis';
import { redisCommand } from '../harness/redis-command';
import { startRedisCluster } from '../harness/redis-cluster';
import type { TestServer } from '../harness/servers';
import type { DriverFixture } from './driver-fixtures';

/**
 * The redis driver on a private 3-master Redis Cluster (with `replicas` per master: every lock write then waits
 * for them). Its `server` stands for the whole cluster: a restart kills and restarts every node (each keeps its
 * role and slots, loses its data).
 */
export async function redisClusterFixture(replicas = 0): Promise<DriverFixture> {
  const cluster = await startRedisCluster(3, undefined, { replicas });
  const inspector = new Cluster(cluster.addrs.map((addr) => ({ host: '127.0.0.1', port: Number(addr.split(':')[1]) })));
  inspector.on('error', () => undefined);
  const everyNode = (act: (node: TestServer) => Promise<void>) =>
    Promise.all([...cluster.nodes, ...cluster.replicas].map(act)).then(() => undefined);
  const server: TestServer = {
    addr: cluster.addrs[0],
    port: cluster.nodes[0].port,
    restart: (downForMs) => everyNode((node) => node.restart(downForMs)),
    kill: () => everyNode((node) => node.kill()),
    start: () => everyNode((node) => node.start()),
    stop: () => everyNode((node) => node.stop()),
  };
  return {
    driver: 'redis',
    server,
    shortTtl: 400,
    config: () => ({
      redis: { cluster: cluster.addrs, max_idle: 5, idle_timeout: 30 },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
    }),
    async state(key, _driver, namespace = 'lock') {
      const tagged = namespace === 'lock' ? `nest-locker:{${key}}` : `nest-locker:${namespace}:{${key}}`;
      const [held, queued] = await Promise.all([inspector.exists(tagged), inspector.llen(`${tagged}:queue`)]);
      // the driver subscribes on the key's master (SSUBSCRIBE) or on any one node (SUBSCRIBE, without SPUBLISH),
      // and each node counts only its own subscribers
      const counts = await Promise.all(
        cluster.nodes.flatMap((node) =>
          ['SHARDNUMSUB', 'NUMSUB'].map(
            (which) => redisCommand(node.port, 'PUBSUB', which, `${tagged}:released`) as Promise<[string, number]>,
          ),
        ),
      );
      return { entries: held + queued, subscriptions: counts.reduce((sum, [, count]) => sum + Number(count), 0) };
    },
    async close() {
      inspector.disconnect();
      await cluster.stop();
    },
  };
}
