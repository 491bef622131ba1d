import { describe } from 'node:test';
import { electionConformanceSuite } from './conformance/election-conformance';
import { memoryFixture } from './conformance/driver-fixtures';

describe('memory driver: elections', () => electionConformanceSuite('memory', memoryFixture));
