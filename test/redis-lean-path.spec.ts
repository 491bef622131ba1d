import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { startLockerApp } from './helpers/locker-app';
import { useRedisApp } from './helpers/redis-app';
import { eventually } from './helpers/wait';

/** What redis holds and tells while a lock is taken and given back: queue and messages only while someone waits. */
describe('redis: the uncontended path', () => {
  const redis = useRedisApp();

  /** Every message published on the lock channels of this server, as "<channel> <message>". */
  async function listen(): Promise<{ heard: string[]; settled: () => Promise<void>; stop: () => void }> {
    const listener: Redis = redis.inspector.duplicate();
    const heard: string[] = [];
    listener.on('pmessage', (_pattern: string, channel: string, message: string) => heard.push(`${channel} ${message}`));
    await listener.psubscribe('nest-locker:*');
    return {
      heard,
      // a message published before this round trip has arrived when it answers
      settled: async () => void (await listener.call('PING')),
      stop: () => listener.disconnect(),
    };
  }

  it('takes and gives back a free lock leaving only its fence on the server, and tells no one', async () => {
    const key = 'lean-cycle';
    const messages = await listen();
    try {
      let last = 0n;
      for (let i = 0; i < 10; i++) {
        const lock = i % 2 === 0 ? await redis.app.service.acquire(key, { waitTime: 5_000 }) : await redis.app.service.tryAcquire(key);
        assert.ok(lock, 'a free lock is taken');
        assert.ok(lock.fencingToken > last, 'with a token above the last one');
        last = lock.fencingToken;
        await lock.release();
      }
      assert.deepEqual(await redis.inspector.keys(`nest-locker:{${key}}*`), [`nest-locker:{${key}}:fence`], 'no queue, no places');
      await messages.settled();
      assert.deepEqual(messages.heard, [], 'no release message: no one waited');
    } finally {
      messages.stop();
    }
  });

  it('announces a release only to the waiter it is granted to: one message per handoff', async () => {
    const key = 'lean-handoff';
    const other = await startLockerApp(redis.config());
    const messages = await listen();
    try {
      const holder = await redis.app.service.acquire(key);
      const waiting = other.service.acquire(key, { waitTime: 10_000 });
      await eventually(
        () => redis.inspector.llen(`nest-locker:{${key}}:queue`),
        (length) => length === 1,
        10_000,
      );
      await holder.release(); // kept for a retake here that does not come, then passed on to the waiter
      const next = await waiting;
      await next.release(); // no one waits now: told no one
      await messages.settled();
      assert.equal(messages.heard.length, 1, `one message, the grant: ${JSON.stringify(messages.heard)}`);
      assert.match(messages.heard[0], new RegExp(`^nest-locker:\\{${key}\\}:released ${next.fencingToken} \\S+$`));
      assert.deepEqual(
        await redis.inspector.keys(`nest-locker:{${key}}*`),
        [`nest-locker:{${key}}:fence`],
        'the queue went with its waiter',
      );
    } finally {
      messages.stop();
      await other.close();
    }
  });

  it('reads the server clock once to take a free permit or read lock: the queue-free take passes its TIME to the fence', async () => {
    const takes = {
      permit: () => redis.app.service.acquirePermit('lean-permit-clock', { limit: 2, waitTime: 5_000 }),
      read: () => redis.app.service.acquireRead('lean-read-clock', { waitTime: 5_000 }),
    };
    for (const [kind, take] of Object.entries(takes)) {
      await redis.inspector.config('RESETSTAT');
      const lock = await take();
      const stats = await redis.inspector.info('commandstats');
      await lock.release();
      assert.equal(/cmdstat_time:calls=(\d+)/.exec(stats)?.[1], '1', `TIME calls for a ${kind}: ${stats}`);
    }
  });

  it("keeps the fence when a holder's lease runs out: a process that never saw its token gets a higher one, server clock behind or not", async () => {
    const key = 'lean-fence-outlives-lease';
    const [seconds, micros] = (await redis.inspector.time()) as [number | string, number | string];
    // the fence as a server whose clock was an hour ahead would have left it
    const ahead = BigInt(seconds) * 1_000_000n + BigInt(micros) + 3_600_000_000n;
    await redis.inspector.set(`nest-locker:{${key}}:fence`, String(ahead));
    const first = await redis.app.service.acquire(key, { ttl: 300, keepAlive: false });
    assert.ok(first.fencingToken > ahead);
    await eventually(
      () => redis.inspector.exists(`nest-locker:{${key}}`),
      (held) => held === 0,
      5_000,
    );
    const other = await startLockerApp(redis.config()); // its driver was never given a token
    try {
      const next = await other.service.acquire(key, { waitTime: 5_000 });
      assert.ok(next.fencingToken > first.fencingToken, `${next.fencingToken} after ${first.fencingToken}, whose lease ran out`);
      await next.release();
    } finally {
      await other.close();
    }
  });
});
