import { describe } from 'node:test';
import { lockConformanceSuite } from './conformance/lock-conformance';
import { etcdFixture } from './conformance/driver-fixtures';

describe('etcd driver conformance', () => lockConformanceSuite('etcd', etcdFixture));
