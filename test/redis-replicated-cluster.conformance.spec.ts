import { describe } from 'node:test';
import { lockConformanceSuite } from './conformance/lock-conformance';
import { redisClusterFixture } from './conformance/redis-cluster-fixture';

// every lock write waits for the master's replica (WAIT): the whole contract again, grants and waits included
describe('redis driver conformance on a Redis Cluster with a replica per master', () =>
  lockConformanceSuite('redis', () => redisClusterFixture(1)));
