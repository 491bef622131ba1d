import { describe } from 'node:test';
import { electionConformanceSuite } from './conformance/election-conformance';
import { redisClusterFixture } from './conformance/redis-cluster-fixture';

// the leader's lock, its proclaimed value and its channel share one hash tag: one slot, one master (SPUBLISH there)
describe('redis driver elections on a 3-master Redis Cluster', () =>
  electionConformanceSuite('redis', redisClusterFixture, { processes: false }));
