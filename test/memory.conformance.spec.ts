import { describe } from 'node:test';
import { lockConformanceSuite } from './conformance/lock-conformance';
import { memoryFixture } from './conformance/driver-fixtures';

describe('memory driver conformance', () => lockConformanceSuite('memory', memoryFixture));
