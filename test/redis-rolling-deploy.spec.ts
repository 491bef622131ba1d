import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedisApp } from './helpers/redis-app';
import { sleep } from './helpers/wait';
import { PreviousVersionNode } from './src/previous-redis-protocol';

/**
 * A rolling deploy: nodes of the previous version (the protocol before the lean one) and of this one share
 * one Redis. They speak to the same keys (lock, fence, queue), so they interoperate: locks go from one to
 * the other, never to two holders, with tokens that only grow.
 */
describe('redis: a rolling deploy, previous and current version on one server', () => {
  const redis = useRedisApp();

  it("a previous-version holder's release grants the lock to a waiting node of this version", async () => {
    const previous = new PreviousVersionNode(redis.server.addr);
    try {
      const held = await previous.acquire('rolling-old-to-new');
      const waiting = redis.app.service.acquire('rolling-old-to-new', { waitTime: 10_000 });
      await redis.waitForQueue('rolling-old-to-new', 1);
      await held.release();
      const lock = await waiting;
      assert.ok(lock.fencingToken > held.token);
      await lock.release();
    } finally {
      previous.close();
    }
  });

  it("this version's release grants the lock to a waiting previous-version node", async () => {
    const previous = new PreviousVersionNode(redis.server.addr);
    try {
      const lock = await redis.app.service.acquire('rolling-new-to-old');
      const waiting = previous.acquire('rolling-new-to-old');
      await redis.waitForQueue('rolling-new-to-old', 1);
      await lock.release();
      const held = await waiting;
      assert.ok(held.token > lock.fencingToken);
      assert.equal((await redis.app.service.inspect('rolling-new-to-old'))?.fencingToken, held.token, 'granted to it by the release');
      await held.release();
    } finally {
      previous.close();
    }
  });

  it('both versions taking one key in turn: never two holders, tokens in holding order', async () => {
    const key = 'rolling-mixed';
    const previous = new PreviousVersionNode(redis.server.addr);
    const sections: { start: number; end: number; token: bigint }[] = [];
    const section = async (token: bigint) => {
      const start = performance.now();
      await sleep(1);
      sections.push({ start, end: performance.now(), token });
    };
    try {
      await Promise.all([
        (async () => {
          for (let i = 0; i < 30; i++) {
            const lock = await redis.app.service.acquire(key, { waitTime: 20_000 });
            await section(lock.fencingToken);
            await lock.release();
          }
        })(),
        (async () => {
          for (let i = 0; i < 30; i++) {
            const held = await previous.acquire(key);
            await section(held.token);
            await held.release();
          }
        })(),
      ]);
      sections.sort((a, b) => a.start - b.start);
      for (let i = 1; i < sections.length; i++) {
        assert.ok(sections[i].start >= sections[i - 1].end, `two holders at once at section ${i}`);
        assert.ok(sections[i].token > sections[i - 1].token, `token ${sections[i].token} after ${sections[i - 1].token}`);
      }
    } finally {
      previous.close();
    }
  });
});
