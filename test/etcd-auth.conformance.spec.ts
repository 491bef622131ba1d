import { describe } from 'node:test';
import { lockConformanceSuite } from './conformance/lock-conformance';
import { etcdAuthFixture } from './harness/etcd-auth';

describe('etcd driver conformance as a user whose role may read and write only the key prefix', () =>
  lockConformanceSuite('etcd', etcdAuthFixture));
