import { describe } from 'node:test';
import { lockConformanceSuite } from './conformance/lock-conformance';
import { redisFixture } from './conformance/driver-fixtures';
import { aclUserAccess, documentedAclRules } from './harness/redis-acl';

describe('redis driver conformance as the least-privilege ACL user of docs/production.md (~prefix* &prefix*, exact commands)', () =>
  lockConformanceSuite('redis', () => redisFixture(aclUserAccess(documentedAclRules()))));
