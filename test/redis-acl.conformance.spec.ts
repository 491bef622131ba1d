import { describe } from 'node:test';
import { lockConformanceSuite } from './conformance/lock-conformance';
import { redisFixture } from './conformance/driver-fixtures';
import { aclUserAccess, readmeAclRules } from './harness/redis-acl';

describe("redis driver conformance as the README's least-privilege ACL user (~prefix* &prefix*, exact commands)", () =>
  lockConformanceSuite('redis', () => redisFixture(aclUserAccess(readmeAclRules()))));
