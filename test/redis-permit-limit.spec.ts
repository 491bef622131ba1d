import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MAX_PERMIT_LIMIT } from '../lib/acquisition/lock-kind';
import { redisCommand } from './harness/redis-command';
import { useRedisApp } from './helpers/redis-app';
import { eventually } from './helpers/wait';
import { startHolder } from './helpers/workers';

/** Redis' Lua unpacks at most ~8,000 values at once: more lapsed holders than that must not break the key. */
const HOLDERS = 8_200;

describe('redis: permits at the highest limit', () => {
  const redis = useRedisApp();

  it(`takes and gives back a permit after ${HOLDERS.toLocaleString('en-US')} holders lapsed at once`, { timeout: 60_000 }, async () => {
    const options = { limit: MAX_PERMIT_LIMIT, ttl: 2_000 };
    // holders that die at once: a process holding them is SIGKILLed, so none is given back
    const { child } = await startHolder({ config: redis.config(), key: 'wide', kind: 'permit', ...options, count: HOLDERS });
    child.kill('SIGKILL');
    const [holdersKey] = (await redisCommand(redis.server.port, 'KEYS', '*permit:{wide}:holders')) as string[];
    // every one lapsed by the server's clock, none pruned yet
    const lapsed = async () => {
      const [seconds, micros] = (await redisCommand(redis.server.port, 'TIME')) as string[];
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      return Number(await redisCommand(redis.server.port, 'ZCOUNT', holdersKey, '-inf', now));
    };
    assert.equal(await eventually(lapsed, (count) => count >= HOLDERS, 20_000), HOLDERS, 'the holders lapsed on the server');

    const next = await redis.app.service.tryAcquirePermit('wide', options);
    assert.ok(next?.held, 'a permit of the key is taken');
    assert.equal(Number(await redisCommand(redis.server.port, 'ZCARD', holdersKey)), 1, 'the lapsed holders are gone from the server');
    await next.release();
  });
});
