import { describe } from 'node:test';
import { electionConformanceSuite } from './conformance/election-conformance';
import { etcdFixture } from './conformance/driver-fixtures';

describe('etcd driver: elections', () => electionConformanceSuite('etcd', etcdFixture));
