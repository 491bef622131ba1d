import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { useProxiedRedisApps } from './helpers/proxied-redis-apps';
import { eventually, systemNow } from './helpers/wait';

/** Far longer than any handoff: a waiter that woke only at the holder's expiry could not pass for one woken by the release. */
const HOLDER_TTL = 30_000;

/**
 * The shared release subscriber: a SUBSCRIBE that fails because its connection is down when a key starts
 * waiting is sent again once the connection is back, so the next handoff still comes on the release.
 */
describe('redis: a release subscription that failed is made again', () => {
  // the proxied node waits: its command connection is open before the fault, its subscriber is not
  const redis = useProxiedRedisApps();

  it('the subscriber connection refused when a key starts waiting, then back: the waiter gets the lock on the release', async () => {
    const key = 'resubscribe';
    const channel = `nest-locker:{${key}}:released`;
    const holder = await redis.direct.service.acquire(key, { ttl: HOLDER_TTL });
    // the waiter's app opens its subscriber only now, when a key starts waiting: refuse it
    redis.proxy.refuseNewConnections(true);
    const refusedBefore = redis.proxy.refused;
    const waiting = redis.proxied.service.acquire(key, { waitTime: HOLDER_TTL * 2 });
    waiting.catch(() => undefined);
    // ioredis fails a queued command once its connection failed twice (maxRetriesPerRequest: 1); three to be sure
    await eventually(
      async () => redis.proxy.refused - refusedBefore,
      (refused) => refused >= 3,
      10_000,
    );
    assert.ok(redis.proxy.refused - refusedBefore >= 3, 'the subscriber was refused');
    redis.proxy.refuseNewConnections(false);
    const subscribers = await eventually(
      async () => Number(((await redis.inspector.pubsub('NUMSUB', channel)) as [string, number])[1]),
      (count) => count === 1,
      10_000,
    );
    assert.equal(subscribers, 1, 'subscribed again once the connection was back');
    const releasedAt = systemNow();
    await holder.release();
    const lock = await waiting;
    const handoffMs = systemNow() - releasedAt;
    assert.ok(handoffMs < HOLDER_TTL / 3, `handed over on the release (${Math.round(handoffMs)} ms), not at the holder's expiry`);
    await lock.release();
  });
});
