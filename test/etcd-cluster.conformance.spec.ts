import { describe } from 'node:test';
import { lockConformanceSuite } from './conformance/lock-conformance';
import { etcdClusterFixture } from './conformance/etcd-cluster-fixture';

describe('etcd driver conformance on a 3-member cluster', () => lockConformanceSuite('etcd', etcdClusterFixture));
