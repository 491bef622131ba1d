import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lock } from 'nest-locker';
import { COHORT_MAX_RETAKES } from '../lib/drivers/redis/redis-cohorts';
import { useRedisApp } from './helpers/redis-app';
import { startHolder } from './helpers/workers';

/**
 * A hot key: the default mode lets the releasing process take the lock back (or pass it to its own waiter)
 * a bounded number of times before the next process in line gets it; `fair: true` never does.
 */
describe('redis hot key: cohort handoff and strict arrival order', () => {
  const redis = useRedisApp();

  /**
   * This process holds `key` while a process of its own waits for it; then it releases and at once tries
   * again, as a worker loop does, until the lock is busy: how many times it took it back meanwhile, and
   * the other process's token.
   */
  async function retakesAhead(key: string, here: { fair?: boolean }, there: { fair?: boolean }) {
    let lock: Lock | null = await redis.app.service.acquire(key, here);
    const tokens = [lock.fencingToken];
    const other = startHolder({ key, ...there, config: redis.config() });
    try {
      await redis.waitForQueue(key, 1);
      let retakes = -1;
      while (lock) {
        await lock.release();
        lock = await redis.app.service.tryAcquire(key, here);
        if (lock) tokens.push(lock.fencingToken);
        retakes++;
        assert.ok(retakes <= COHORT_MAX_RETAKES + 1, 'the other process is not passed over without end');
      }
      const { child, token } = await other;
      child.kill('SIGKILL');
      assert.ok(tokens.every((held, i) => i === 0 || held > tokens[i - 1]) && token > tokens[tokens.length - 1], 'tokens in holding order');
      return retakes;
    } catch (error) {
      void other.then(({ child }) => child.kill('SIGKILL'));
      throw error;
    }
  }

  it('default mode: the releasing process takes the lock back at most COHORT_MAX_RETAKES times, then the next process gets it', async () => {
    const retakes = await retakesAhead('cohort-retakes', {}, {});
    assert.ok(retakes >= 1, 'a worker that asks again at once gets the lock back without a handoff across processes');
    assert.ok(retakes <= COHORT_MAX_RETAKES, `passed the other process over ${retakes} times`);
  });

  it('fair: true: a release goes to the process first in line, even when the releasing process asks again at once', async () => {
    assert.equal(await retakesAhead('cohort-fair-holder', { fair: true }, {}), 0);
  });

  it('a fair waiter in line: no process keeps a released lock for itself meanwhile', async () => {
    assert.equal(await retakesAhead('cohort-fair-waiter', {}, { fair: true }), 0);
  });

  it("default mode: a waiter in the releasing process may be passed the lock ahead of another process's, a bounded number of times", async () => {
    const key = 'cohort-local-waiter';
    let lock = await redis.app.service.acquire(key);
    const other = startHolder({ key, config: redis.config() });
    try {
      await redis.waitForQueue(key, 1);
      let passes = 0;
      // each holder releases with a waiter of its own process behind it (waiting from the call on: the key is
      // held here), which the release passes the lock to
      for (;;) {
        const local = redis.app.service.acquire(key, { waitTime: 10_000 }).then(
          (taken) => taken,
          () => null,
        );
        await lock.release();
        const next = await Promise.race([local, other.then(() => null)]);
        if (!next) break;
        assert.ok(next.fencingToken > lock.fencingToken);
        lock = next;
        passes++;
        assert.ok(passes <= COHORT_MAX_RETAKES, `the other process was passed over ${passes} times`);
      }
      assert.ok(passes >= 1, 'the waiter here got it from the release, ahead of the other process');
      const { token } = await other;
      assert.ok(token > lock.fencingToken);
    } finally {
      void other.then(({ child }) => child.kill('SIGKILL'));
    }
  });

  it("default mode: a waiter in the holder's own process takes a key the holder lost without knowing yet (deleted on the server)", async () => {
    const key = 'cohort-lost-here';
    // a 60 s lease: the holder would learn of the loss at its first renewal, 20 s on
    const held = await redis.app.service.acquire(key, { ttl: 60_000 });
    const waiting = redis.app.service.acquire(key, { waitTime: 10_000 });
    assert.equal(await redis.inspector.del(`nest-locker:{${key}}`), 1);
    const taken = await waiting;
    assert.ok(taken.fencingToken > held.fencingToken);
    await taken.release();
    await held.release().catch(() => undefined);
  });
});
