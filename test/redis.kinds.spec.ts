import { describe } from 'node:test';
import { kindConformanceSuite } from './conformance/kind-conformance';
import { redisFixture } from './conformance/driver-fixtures';

describe('redis driver: permits and read/write locks', () => kindConformanceSuite('redis', redisFixture));
