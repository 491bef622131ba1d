import { describe } from 'node:test';
import { etcdClusterFixture } from './conformance/etcd-cluster-fixture';
import { redisClusterFixture } from './conformance/redis-cluster-fixture';
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
    close: () => setup.stop(),
  };
}

// list() SCANs every master of the Cluster: the keys of the listing test hash to different slots.
describe('operations on a 3-master Redis Cluster', () => operationsSuite(redisClusterFixture));
describe('operations on redis behind Sentinel', () => operationsSuite(redisSentinelFixture));
describe('operations on a 3-member etcd cluster', () => operationsSuite(etcdClusterFixture));
