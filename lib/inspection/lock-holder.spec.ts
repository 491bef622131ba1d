import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { etcdEntryValue, holderOfEtcdEntry, holderOfRedisOwner, redisOwnerPrefix } from './lock-holder';

describe('the holder recorded with a lock', () => {
  const holder = { id: 'Ab-_9xYz0123', host: 'worker-7.eu-west.internal', pid: 4242 };

  it('reads back from a redis owner id, whatever the counter', () => {
    assert.deepEqual(holderOfRedisOwner(`${redisOwnerPrefix(holder)}${(123456).toString(36)}`), holder);
  });

  it('reads back from a redis owner id when the host name has a colon (it is replaced)', () => {
    const owner = `${redisOwnerPrefix({ ...holder, host: 'fe80::1' })}1`;
    assert.deepEqual(holderOfRedisOwner(owner), { ...holder, host: 'fe80--1' });
  });

  it('names only the owner id for a redis lock written by an older version', () => {
    assert.deepEqual(holderOfRedisOwner('k3J9dP2mQ8xW1vZ4:7'), { id: 'k3J9dP2mQ8xW1vZ4:7', host: '', pid: 0 });
  });

  it('reads back from an etcd entry, and names the entry id for an empty value (an older version)', () => {
    assert.deepEqual(holderOfEtcdEntry(etcdEntryValue(holder), 'nest-locker/job/0123456789abcdef'), holder);
    assert.deepEqual(holderOfEtcdEntry('', 'nest-locker/job/0123456789abcdef'), { id: '0123456789abcdef', host: '', pid: 0 });
  });
});
