import { describe } from 'node:test';
import { redisFixture } from './conformance/driver-fixtures';
import { etcdAuthFixture } from './harness/etcd-auth';
import { aclUserAccess, documentedAclRules } from './harness/redis-acl';
import { operationsSuite } from './operations/operations-suite';

// what operators run (health, inspect, forceRelease, list) works with the rights docs/production.md hands out
describe('operations as the least-privilege redis ACL user of docs/production.md', () =>
  operationsSuite(() => redisFixture(aclUserAccess(documentedAclRules()))));
describe('operations as an etcd user whose role covers only the key prefix', () => operationsSuite(etcdAuthFixture));
