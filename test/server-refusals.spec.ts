import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LockerError, LockerUnavailableError, LockWaitTimeoutError } from 'nest-locker';
import { redisCommand } from './harness/redis-command';
import { useRedisApp } from './helpers/redis-app';

/**
 * An error the server answers to the command itself is not an outage: a waiting acquire that asked again
 * would meet it until its deadline (or for ever, without one). Here the lock's keys left on the server hold
 * a list where the driver keeps a string, as a foreign program writing under the key prefix would leave them.
 */
describe('redis: an error the server answers to the command', () => {
  const redis = useRedisApp();

  /** Takes and gives back `key` once, then turns every key of it left on the server into a list. */
  async function spoil(key: string): Promise<void> {
    await (await redis.app.service.acquire(key)).release();
    const names = (await redisCommand(redis.server.port, 'KEYS', `*{${key}}*`)) as string[];
    assert.ok(names.length > 0, `the lock of "${key}" leaves a key behind (its fence)`);
    for (const name of names) {
      await redisCommand(redis.server.port, 'DEL', name);
      await redisCommand(redis.server.port, 'RPUSH', name, 'not-a-lock');
    }
  }

  /** Ours, final (not LockerUnavailableError, which a wait rides out), naming the key and what redis said. */
  function assertRefused(error: unknown, key: string): true {
    assert.ok(error instanceof LockerError, String(error));
    assert.ok(!(error instanceof LockerUnavailableError) && !(error instanceof LockWaitTimeoutError), String(error));
    assert.equal(error.code, 'LOCKER_ERROR');
    assert.equal(error.key, key);
    assert.match(error.message, /WRONGTYPE|not an integer|script/i);
    assert.match(error.message, /not an outage/);
    assert.equal((error.cause as Error).name, 'ReplyError');
    return true;
  }

  it('rejects a waiting acquire at once, long before its waitTime, and one without waitTime too', { timeout: 30_000 }, async () => {
    await spoil('refused-wait');
    await assert.rejects(redis.app.service.acquire('refused-wait', { waitTime: 60_000 }), (error) => assertRefused(error, 'refused-wait'));
    await assert.rejects(redis.app.service.acquire('refused-wait'), (error) => assertRefused(error, 'refused-wait'));
  });

  it('rejects tryAcquire with the same error, and the key stays as it was', { timeout: 30_000 }, async () => {
    await spoil('refused-try');
    await assert.rejects(redis.app.service.tryAcquire('refused-try'), (error) => assertRefused(error, 'refused-try'));
    const names = (await redisCommand(redis.server.port, 'KEYS', '*{refused-try}*')) as string[];
    for (const name of names) assert.equal(await redisCommand(redis.server.port, 'TYPE', name), 'list');
  });
});
