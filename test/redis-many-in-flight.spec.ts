import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedisApp } from './helpers/redis-app';

/**
 * A lock per order: many acquisitions in flight on one command connection, whose commands go out
 * together while replies are pending. Each must still be granted, held and freed on the server.
 */
describe('redis, many locks in flight on one connection', () => {
  const redis = useRedisApp();

  it('grants each lock to one caller at a time, with growing fencing tokens, and leaves no lock behind', async () => {
    const keys = 40;
    const tokens = new Map<string, bigint[]>();
    const holding = new Set<string>();
    let overlaps = 0;
    await Promise.all(
      Array.from({ length: 64 }, async (_, loop) => {
        for (let cycle = 0; cycle < 25; cycle++) {
          const key = `order-${(loop * 7 + cycle) % keys}`;
          const lock = await redis.app.service.acquire(key, { waitTime: 30_000 });
          if (holding.has(key)) overlaps++;
          holding.add(key);
          assert.equal(lock.held, true);
          tokens.set(key, [...(tokens.get(key) ?? []), lock.fencingToken]);
          await new Promise((resolve) => setImmediate(resolve));
          holding.delete(key);
          await lock.release();
        }
      }),
    );
    assert.equal(overlaps, 0, 'never two holders of one key');
    assert.equal([...tokens.values()].flat().length, 64 * 25);
    for (const [key, seen] of tokens) {
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => (a < b ? -1 : 1)),
        `tokens of ${key} grow`,
      );
      assert.equal(new Set(seen).size, seen.length, `tokens of ${key} are distinct`);
    }
    const left = (await redis.inspector.keys('nest-locker:*')).filter((name) => !name.endsWith(':fence'));
    assert.deepEqual(left, [], 'every lock was freed on the server');
  });

  it('holds a lock taken among many in flight on the server, under this process', async () => {
    const busy = Array.from({ length: 64 }, async (_, i) => (await redis.app.service.acquire(`busy-${i}`)).release());
    const lock = await redis.app.service.acquire('watched');
    await Promise.all(busy);
    const info = await redis.app.service.inspect('watched');
    assert.equal(info?.fencingToken, lock.fencingToken);
    assert.equal(info?.holder.pid, process.pid);
    await lock.release();
    assert.equal(await redis.app.service.inspect('watched'), null);
  });
});
