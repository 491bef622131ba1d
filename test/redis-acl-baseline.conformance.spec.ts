import { describe } from 'node:test';
import { lockConformanceSuite } from './conformance/lock-conformance';
import { redisFixture } from './conformance/driver-fixtures';
import { aclUserAccess, BASELINE_RULES } from './harness/redis-acl';

describe('redis driver conformance as an ACL user with ~prefix* &prefix* +@all -@dangerous', () =>
  lockConformanceSuite('redis', () => redisFixture(aclUserAccess(BASELINE_RULES))));
