import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisGrants } from './redis-grants';

/** Grants heard on a key's channel: only the named waiter acts, and a grant to a waiter that left is given back. */
describe('RedisGrants', () => {
  function grants() {
    const woken: string[] = [];
    const givenBack: string[] = [];
    const heard = new RedisGrants((lock) => woken.push(lock), 2_000);
    return { heard, woken, givenBack };
  }

  it('a grant naming the local head gives it the token and wakes it; a grant to someone else wakes no one', () => {
    const { heard, woken } = grants();
    const head = heard.enter('L', 'me:1', { ttl: 10_000, fair: false });
    heard.heard('L', '42 other:7');
    assert.deepEqual(woken, [], 'a grant to another process wakes no one here');
    heard.heard('L', '43 me:1');
    assert.equal(head.grantedToken, '43');
    heard.granted('L', 'me:1', '43'); // the release's reply and its message both tell it
    assert.equal(head.grantedToken, '43');
    assert.deepEqual(woken, ['L', 'L']);
    heard.stop();
  });

  it("a release that lets several in (readers) names each; only this process's waiter acts", () => {
    const { heard, woken } = grants();
    const head = heard.enter('L', 'me:1', { ttl: 10_000, fair: false });
    heard.heard('L', '50 other:7 51 me:1 52 other:8');
    assert.equal(head.grantedToken, '51');
    assert.deepEqual(woken, ['L']);
    heard.stop();
  });

  it('an empty message, or none (one may have been missed), wakes the head to ask the server', () => {
    const { heard, woken } = grants();
    heard.enter('L', 'me:1', { ttl: 10_000, fair: false });
    heard.heard('L', '');
    heard.heard('L');
    assert.deepEqual(woken, ['L', 'L']);
    heard.stop();
  });

  it('a grant to a waiter that gave up and could not leave the queue is given back, once', () => {
    const { heard, woken, givenBack } = grants();
    const head = heard.enter('L', 'me:1', { ttl: 10_000, fair: false });
    heard.leave('L', head);
    heard.abandon('me:1', (lock) => givenBack.push(`${lock} me:1`));
    heard.heard('L', '44 me:1');
    heard.heard('L', '44 me:1');
    assert.deepEqual(givenBack, ['L me:1']);
    assert.deepEqual(woken, []);
    heard.heard('L', '45 me:2'); // a waiter that left normally: its leave script passed the lock on
    assert.deepEqual(givenBack, ['L me:1']);
    heard.stop();
  });
});
