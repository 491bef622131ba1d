import { startEtcdCluster } from '../harness/etcd-cluster';
import { startRedisCluster } from '../harness/redis-cluster';
import { redisCommand, waitUntil } from '../harness/redis-command';
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

/** A master, a replica and three sentinels, and what can happen to them (see RedisSentinelSetup). */
export interface RedisSentinelEnvironment extends FaultEnvironment {
  /** Kills the master and waits for the replica to lead. */
  failover(): Promise<void>;
  /** SENTINEL FAILOVER, the old master left running; waits for the sentinels to name the replica. */
  plannedFailover(): Promise<void>;
  oldMasterDemoted(withinMs: number): Promise<void>;
}

export async function redisSentinelEnvironment(): Promise<RedisSentinelEnvironment> {
  const setup = await startRedisSentinel();
  return {
    driver: 'redis',
    proxies: [],
    workerConfig: () => lockerConfig('redis', { sentinels: setup.sentinelAddrs, master_name: setup.masterName }),
    failover: () => setup.failover(),
    plannedFailover: () => setup.plannedFailover(),
    oldMasterDemoted: (withinMs) => setup.oldMasterDemoted(withinMs),
    close: () => setup.stop(),
  };
}

/** A 3-master Redis Cluster with a replica per master; `manualFailover(key)` promotes the replica of the key's master. */
export interface RedisReplicatedClusterEnvironment extends FaultEnvironment {
  /**
   * CLUSTER FAILOVER on the replica of the master that holds `key`, and waits until it leads. `force`: FORCE,
   * the replica promoted without catching up. `behind`: first its link to the master is dropped and it
   * cannot log in again, so it falls behind; `behind` runs then (the workers write meanwhile).
   */
  manualFailover(key: string, options: { force?: boolean; behind?: () => Promise<void> }): Promise<void>;
}

export async function redisReplicatedClusterEnvironment(): Promise<RedisReplicatedClusterEnvironment> {
  const cluster = await startRedisCluster(3, undefined, { replicas: 1 });
  return {
    driver: 'redis',
    proxies: [],
    workerConfig: () => lockerConfig('redis', { cluster: cluster.addrs }),
    async manualFailover(key, { force, behind }) {
      const lock = `nest-locker:{${key}}`;
      const { replicas } = await cluster.serving(lock);
      const [replica] = replicas;
      if (behind) {
        await redisCommand(replica.port, 'CONFIG', 'SET', 'masteruser', 'nobody-here');
        await redisCommand(replica.port, 'CONFIG', 'SET', 'masterauth', 'nothing');
        await redisCommand(replica.port, 'CLIENT', 'KILL', 'TYPE', 'master');
        await behind();
      }
      try {
        await redisCommand(replica.port, 'CLUSTER', 'FAILOVER', ...(force ? ['FORCE'] : []));
        await waitUntil('the replica leads', async () => (await cluster.serving(lock)).master.port === replica.port);
      } finally {
        if (behind) {
          await redisCommand(replica.port, 'CONFIG', 'SET', 'masteruser', '');
          await redisCommand(replica.port, 'CONFIG', 'SET', 'masterauth', '');
        }
      }
    },
    close: () => cluster.stop(),
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
