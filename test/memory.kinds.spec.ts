import { describe } from 'node:test';
import { kindConformanceSuite } from './conformance/kind-conformance';
import { memoryFixture } from './conformance/driver-fixtures';

describe('memory driver: permits and read/write locks', () => kindConformanceSuite('memory', memoryFixture));
