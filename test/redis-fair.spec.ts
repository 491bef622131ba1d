import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COHORT_MAX_RETAKES } from '../lib/drivers/redis/redis-cohorts';
import { startLockerApp } from './helpers/locker-app';
import { useRedisApp } from './helpers/redis-app';
import { eventually } from './helpers/wait';
import { spawnWorker } from './helpers/workers';

/** Fair mode's queue, seen on the redis server, with a queued waiter that is paused or killed. */
describe('redis fair mode', () => {
  const redis = useRedisApp();

  const queueLength = (key: string) => redis.inspector.llen(`nest-locker:{${key}}:queue`);

  /** A separate process queued for `key` as a fair waiter (the worker would hold the lock once it gets it). */
  async function queuedWorker(key: string) {
    const child = spawnWorker({
      mode: 'hold',
      key,
      fair: true,
      config: redis.config(),
    });
    assert.equal(
      await eventually(
        () => queueLength(key),
        (length) => length === 1,
        10_000,
      ),
      1,
      'the worker is queued on the server',
    );
    return child;
  }

  it('no one takes a released lock ahead of a live queued waiter, fair or not; a paused waiter loses its place', async () => {
    const key = 'fair-no-barging';
    const holder = await redis.app.service.acquire(key);
    const waiter = await queuedWorker(key);
    try {
      waiter.kill('SIGSTOP'); // its place stays live for a while, but it cannot take the lock
      await holder.release();
      assert.equal(await redis.app.service.tryAcquire(key), null, 'a plain tryAcquire does not jump the queue');
      assert.equal(await redis.app.service.tryAcquire(key, { fair: true }), null, 'neither does a fair one');
      const next = await redis.app.service.acquire(key, { fair: true, waitTime: 10_000 });
      assert.equal(await queueLength(key), 0, "the paused waiter's place lapsed on the server's clock");
      await next.release();
    } finally {
      waiter.kill('SIGKILL');
    }
  });

  it('a plain waiter is not stuck behind a dead fair waiter until the holder’s TTL would have run out', async () => {
    const key = 'fair-dead-head-plain-waiter';
    const holderNode = await startLockerApp(redis.config());
    try {
      const holder = await holderNode.service.acquire(key, { ttl: 60_000, keepAlive: false });
      const plain = redis.app.service.acquire(key, { waitTime: 15_000 }); // sleeps on the holder's 60 s lease
      const waiter = await queuedWorker(key);
      waiter.kill('SIGKILL');
      await holder.release(); // the release names the dead waiter: the plain waiter is not woken by it
      const lock = await plain;
      assert.ok(lock.held, "taken once the dead waiter's place lapsed, long before the 60 s lease");
      await lock.release();
    } finally {
      await holderNode.close();
    }
  });

  it("a killed waiter's place lapses, so the lock is not stuck behind it", async () => {
    const key = 'fair-dead-waiter';
    const holder = await redis.app.service.acquire(key);
    const waiter = await queuedWorker(key);
    waiter.kill('SIGKILL');
    const next = redis.app.service.acquire(key, { fair: true, waitTime: 10_000 });
    await eventually(
      () => queueLength(key),
      (length) => length === 2,
    );
    await holder.release();
    const lock = await next;
    assert.ok(lock.held);
    assert.equal(await queueLength(key), 0);
    await lock.release();
  });
  it('plain mode: a node that releases and asks again at once does not keep a waiting node out', async () => {
    const key = 'plain-no-starvation';
    const other = await startLockerApp(redis.config());
    try {
      let lock = await redis.app.service.acquire(key);
      let waiterGotIt = false;
      const waiting = other.service.acquire(key, { waitTime: 60_000 }).then(async (taken) => {
        waiterGotIt = true;
        await taken.release();
      });
      // counted from when the other node waits in the server's queue: until then a release passes no one over
      await eventually(
        () => queueLength(key),
        (queued) => queued === 1,
        10_000,
      );
      let passedOver = 0;
      // The releasing node hears of its own release first: without a place in the server's queue the
      // waiting node, told by a message, asks too late every time.
      for (; passedOver < 50 && !waiterGotIt; passedOver++) {
        await lock.release();
        lock = await redis.app.service.acquire(key, { waitTime: 60_000 });
      }
      await lock.release();
      await waiting;
      // cohort handoff: the releasing node may take it back COHORT_MAX_RETAKES times; the last turn is the wait for the other
      assert.ok(passedOver <= COHORT_MAX_RETAKES + 1, `the waiting node was passed over ${passedOver - 1} times`);
      assert.equal(await queueLength(key), 0, 'nothing left queued on the server');
    } finally {
      await other.close();
    }
  });
});
