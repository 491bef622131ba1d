import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redisCommand } from './harness/redis-command';
import { startLockerApp } from './helpers/locker-app';
import { useRedisApp } from './helpers/redis-app';

/**
 * A single server that crashes and comes back from its last snapshot (or an AOF a second behind) has the
 * lock's fence as it was then: older than the tokens it gave since. A node that never saw those tokens must
 * still get a token above them.
 */
describe('redis: a fence restored from a snapshot older than its last tokens', () => {
  const redis = useRedisApp();

  it('a node that joins after the crash gets a token above every token given before it', async () => {
    let last = 0n;
    const cycle = async () => {
      const lock = await redis.app.service.acquire('restored', { waitTime: 5_000 });
      last = lock.fencingToken;
      await lock.release();
    };
    await cycle();
    await cycle();
    await redisCommand(redis.server.port, 'SAVE'); // the snapshot the crash goes back to
    for (let i = 0; i < 3; i++) await cycle();
    await redis.server.kill(); // SIGKILL: what came after the snapshot is lost
    await redis.server.start();
    const restored = BigInt(String(await redisCommand(redis.server.port, 'GET', 'nest-locker:{restored}:fence')));
    assert.ok(restored < last, `the server came back with the fence of the snapshot, ${restored}, below the last token ${last}`);
    const joined = await startLockerApp(redis.config());
    try {
      const lock = await joined.service.acquire('restored', { waitTime: 5_000 });
      assert.ok(lock.fencingToken > last, `the token after the crash, ${lock.fencingToken}, is above the last before it, ${last}`);
      await lock.release();
    } finally {
      await joined.close();
    }
  });
});
