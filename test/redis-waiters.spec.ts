import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedisApp } from './helpers/redis-app';
import { eventually } from './helpers/wait';

/** What the redis server itself says about one app's connections and subscriptions. */
describe('redis waiters', () => {
  const redis = useRedisApp();

  const clients = async () =>
    String(await redis.inspector.client('LIST'))
      .split('\n')
      .filter(Boolean).length - 1; // minus the inspector

  it('share one subscriber connection per driver instance, whatever the number of waiting keys and waiters', async () => {
    assert.equal(await clients(), 1, 'one command connection before anyone waits');
    const holders = await Promise.all(Array.from({ length: 5 }, (_, i) => redis.app.service.acquire(`shared-sub-${i}`)));
    const waiters = Array.from({ length: 100 }, (_, i) =>
      redis.app.service.withLock(`shared-sub-${i % 5}`, async () => i, { waitTime: 20_000 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await clients(), 2, 'plus one shared subscriber');
    const channels = (await redis.inspector.pubsub('CHANNELS', '*')) as string[];
    assert.equal(channels.length, 5, 'one channel per waited-on key');
    await Promise.all(holders.map((lock) => lock.release()));
    const served = await Promise.all(waiters);
    assert.equal(served.length, 100);
    const left = await eventually(
      () => redis.inspector.pubsub('CHANNELS', '*') as Promise<string[]>,
      (channels) => channels.length === 0,
    );
    assert.deepEqual(left, [], 'no subscription left once nobody waits (kept WAKE_SOURCE_LINGER_MS after waiters that got the lock)');
  });
});
