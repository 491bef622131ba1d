import { describe } from 'node:test';
import { etcdClusterFixture } from './conformance/etcd-cluster-fixture';
import { redisClusterFixture } from './conformance/redis-cluster-fixture';
import { redisCommand } from './harness/redis-command';
import { startRedisSentinel } from './harness/redis-sentinel';
import { OperationsFixture, operationsSuite } from './operations/operations-suite';

/** The redis driver finding its master through Sentinel. */
async function redisSentinelFixture(): Promise<OperationsFixture> {
  const setup = await startRedisSentinel();
  return {
    driver: 'redis',
    shortTtl: 400,
    config: () => ({
      redis: { sentinels: setup.sentinelAddrs, master_name: setup.masterName },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
    }),
    // what the master holds for a key (no failover in this suite)
    async state(key) {
      const lock = `nest-locker:{${key}}`;
      const held = Number(await redisCommand(setup.master.port, 'EXISTS', lock));
      const queued = Number(await redisCommand(setup.master.port, 'LLEN', `${lock}:queue`));
      const [, subscriptions] = (await redisCommand(setup.master.port, 'PUBSUB', 'NUMSUB', `${lock}:released`)) as [string, number];
      return { entries: held + queued, subscriptions: Number(subscriptions) };
    },
    close: () => setup.stop(),
  };
}

// list() SCANs every master of the Cluster: the keys of the listing test hash to different slots.
describe('operations on a 3-master Redis Cluster', () => operationsSuite(redisClusterFixture));
describe('operations on redis behind Sentinel', () => operationsSuite(redisSentinelFixture));
describe('operations on a 3-member etcd cluster', () => operationsSuite(etcdClusterFixture));
