import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { startRedis, TestServer } from './harness/servers';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { sleep } from './helpers/wait';

const TTL = 1000;

/**
 * A server that stalls longer than the TTL while an acquisition is on its way grants the lock when it wakes,
 * but the caller cannot know when the lease began: it may already have run out. Such a grant is never handed
 * out: acquire() goes on waiting and returns a lock that is held; tryAcquire() answers null.
 */
describe('a grant that arrives after its lease could have run out', () => {
  let server: TestServer;
  let app: LockerApp;
  before(async () => {
    server = await startRedis();
    // calls wait out the stall instead of timing out, so the grant does arrive late
    app = await startLockerApp({
      redis: { addr: server.addr, command_timeout: 20_000 },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
    });
    await (await app.service.acquire('warm-up')).release();
  });
  after(async () => {
    await app?.close();
    await server?.stop();
  });

  const stallLongerThanTheTtl = async <T>(call: () => Promise<T>): Promise<T> => {
    server.pause!();
    const answer = call();
    await sleep(TTL * 1.5); // the fault itself: the server answers nothing for longer than the lease
    server.resume!();
    return answer;
  };

  it('acquire() keeps waiting and returns a lock that is held', async () => {
    const lock = await stallLongerThanTheTtl(() => app.service.acquire('stalled', { ttl: TTL, waitTime: 10_000 }));
    try {
      assert.equal(lock.held, true, 'the lock handed out is held');
      assert.equal(lock.signal.aborted, false);
    } finally {
      await lock.release();
    }
  });

  it('tryAcquire() answers null, and the key is free afterwards', async () => {
    const lock = await stallLongerThanTheTtl(() => app.service.tryAcquire('stalled-once', { ttl: TTL }));
    assert.equal(lock, null);
    const next = await app.service.acquire('stalled-once', { ttl: TTL, waitTime: 5_000 });
    assert.equal(next.held, true);
    await next.release();
  });
});
