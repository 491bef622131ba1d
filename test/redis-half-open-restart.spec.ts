import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LockLostError } from 'nest-locker';
import { useProxiedRedisApps } from './helpers/proxied-redis-apps';
import { abortReason, eventually, systemNow } from './helpers/wait';

const TTL = 3000;

/**
 * The holder's connection black-holed (nothing forwarded, no close seen) while the server restarts without
 * its data: a waiter on another connection takes the lock as soon as it reconnects. The holder cannot
 * know until a renewal goes unanswered; that renewal, unanswered for a third of the TTL, ends its holding.
 */
describe('redis: a half-open holder while the server restarts without persistence', () => {
  const redis = useProxiedRedisApps();

  it('the holder is told by its unanswered renewal (disconnected), within two thirds of the TTL of the waiter taking the lock', async (t) => {
    const key = 'half-open-restart';
    const holder = await redis.proxied.service.acquire(key, { ttl: TTL });
    const waiting = redis.direct.service.acquire(key, { ttl: 30_000, waitTime: 20_000 });
    waiting.catch(() => undefined); // a failure is reported where it is awaited, not as an unhandled rejection meanwhile
    await eventually(
      async () => Number(((await redis.inspector.pubsub('NUMSUB', `nest-locker:{${key}}:released`)) as [string, number])[1]),
      (count) => count === 1,
      10_000,
    );
    const told = abortReason(holder.signal, 2 * TTL).then(() => systemNow());
    told.catch(() => undefined);
    redis.proxy.set({ kind: 'cut' });
    await redis.server.restart();
    const lock = await waiting;
    const takenAt = systemNow();
    const overlapMs = (await told) - takenAt;
    const reason: unknown = holder.signal.reason;
    t.diagnostic(`both believed they held the lock for ${Math.round(overlapMs)} ms`);
    assert.ok(reason instanceof LockLostError);
    assert.equal(reason.reason, 'disconnected', `told by the unanswered renewal, not at its lease deadline: ${reason.message}`);
    assert.ok(overlapMs < (2 * TTL) / 3 + 500, `overlap ${Math.round(overlapMs)} ms: at most a renewal period and a renewal's deadline`);
    // once the holder's connection is back, its owner-checked releases leave the new holder's lock alone
    redis.proxy.set({ kind: 'pass' });
    await eventually(
      async () => redis.proxy.connectionCount,
      (count) => count > 0,
      10_000,
    );
    await (await redis.proxied.service.acquire('after-heal', { waitTime: 10_000 })).release();
    assert.ok(lock.held, 'the new holder still holds it');
    assert.equal(await redis.inspector.exists(`nest-locker:{${key}}`), 1);
    await lock.release();
  });
});
