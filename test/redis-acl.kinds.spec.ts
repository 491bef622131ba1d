import { describe } from 'node:test';
import { kindConformanceSuite } from './conformance/kind-conformance';
import { redisFixture } from './conformance/driver-fixtures';
import { aclUserAccess, documentedAclRules } from './harness/redis-acl';

describe('redis permits and read/write locks as the least-privilege ACL user of docs/production.md', () =>
  kindConformanceSuite('redis', () => redisFixture(aclUserAccess(documentedAclRules()))));
