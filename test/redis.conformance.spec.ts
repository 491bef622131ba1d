import { describe } from 'node:test';
import { lockConformanceSuite } from './conformance/lock-conformance';
import { redisFixture } from './conformance/driver-fixtures';

describe('redis driver conformance', () => lockConformanceSuite('redis', redisFixture));
