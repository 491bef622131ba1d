import { describe } from 'node:test';
import { kindConformanceSuite } from './conformance/kind-conformance';
import { etcdFixture } from './conformance/driver-fixtures';

describe('etcd driver: permits and read/write locks', () => kindConformanceSuite('etcd', etcdFixture));
