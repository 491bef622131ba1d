import { describe } from 'node:test';
import { electionConformanceSuite } from './conformance/election-conformance';
import { redisFixture } from './conformance/driver-fixtures';

describe('redis driver: elections', () => electionConformanceSuite('redis', redisFixture));
