import { describe } from 'node:test';
import { lockConformanceSuite } from './conformance/lock-conformance';
import { redisClusterFixture } from './conformance/redis-cluster-fixture';

describe('redis driver conformance on a 3-master Redis Cluster', () => lockConformanceSuite('redis', redisClusterFixture));
