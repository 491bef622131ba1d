import { startEtcdCluster } from '../harness/etcd-cluster';
import { startRedisCluster } from '../harness/redis-cluster';
import { redisCommand } from '../harness/redis-command';
import { startRedisSentinel } from '../harness/redis-sentinel';
import type { TestServer } from '../harness/servers';
import { FaultEnvironment, lockerConfig } from './environments';

/** A 3-master Redis Cluster; `masterHolding(key)` is the master where the key's lock sits right now. */
export interface RedisClusterEnvironment extends FaultEnvironment {
  masterHolding(key: string): Promise<TestServer>;
}

export async function redisClusterEnvironment(): Promise<RedisClusterEnvironment> {
  const cluster = await startRedisCluster(3);
  return {
    driver: 'redis',
    proxies: [],
    workerConfig: () => lockerConfig('redis', { cluster: cluster.addrs }),
    async masterHolding(key) {
      // only the master of the key's slot has it; the others answer MOVED
      const held = await Promise.all(cluster.nodes.map((node) => redisCommand(node.port, 'EXISTS', `nest-locker:{${key}}`).catch(() => 0)));
      const index = held.indexOf(1);
      if (index === -1) throw new Error(`no master holds ${key}`);
      return cluster.nodes[index];
    },
    close: () => cluster.stop(),
  };
}

/** A master, a replica and three sentinels; `failover()` kills the master and waits for the replica to lead. */
export interface RedisSentinelEnvironment extends FaultEnvironment {
  failover(): Promise<void>;
}

export async function redisSentinelEnvironment(): Promise<RedisSentinelEnvironment> {
  const setup = await startRedisSentinel();
  return {
    driver: 'redis',
    proxies: [],
    workerConfig: () => lockerConfig('redis', { sentinels: setup.sentinelAddrs, master_name: setup.masterName }),
    failover: () => setup.failover(),
    close: () => setup.stop(),
  };
}

/** A 3-member etcd cluster; the worker lists every member in `endpoints`. */
export interface EtcdClusterEnvironment extends FaultEnvironment {
  member(which: 'leader' | 'follower'): Promise<TestServer>;
}

export async function etcdClusterEnvironment(): Promise<EtcdClusterEnvironment> {
  const cluster = await startEtcdCluster(3);
  return {
    driver: 'etcd',
    proxies: [],
    workerConfig: () => lockerConfig('etcd', { endpoints: cluster.endpoints }),
    async member(which) {
      const leader = await cluster.leaderIndex();
      return cluster.members[which === 'leader' ? leader : (leader + 1) % cluster.members.length];
    },
    close: () => cluster.stop(),
  };
}
