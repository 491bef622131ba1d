import { describe } from 'node:test';
import { etcdFixture, memoryFixture, redisFixture } from './conformance/driver-fixtures';
import { operationsSuite } from './operations/operations-suite';

describe('operations on the memory driver', () => operationsSuite(memoryFixture));
describe('operations on redis', () => operationsSuite(redisFixture));
describe('operations on etcd', () => operationsSuite(etcdFixture));
