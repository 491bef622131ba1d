import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startLockerApp } from './helpers/locker-app';
import { useRedisApp } from './helpers/redis-app';
import { eventually, sleep } from './helpers/wait';
import { runHammer, spawnWorker } from './helpers/workers';

/** What a release does on redis: it hands the lock to the first waiter in the server's queue, in its own script. */
describe('redis release grants the lock to the next waiter', () => {
  const redis = useRedisApp();

  const queueLength = (key: string) => redis.inspector.llen(`nest-locker:{${key}}:queue`);

  /** A worker waiting for `key` in another process (plain mode), and the first line it prints. */
  function waitingWorker(key: string, waitTime?: number): { child: ChildProcess; said: Promise<{ acquired?: string; error?: string }> } {
    const child = spawnWorker({ mode: 'hold', key, waitTime, config: redis.config() });
    let out = '';
    const said = new Promise<{ acquired?: string; error?: string }>((resolve, reject) => {
      child.stdout?.on('data', (chunk) => {
        out += chunk;
        const line = out.split('\n').find((text) => text.startsWith('{'));
        if (line) resolve(JSON.parse(line) as { acquired?: string; error?: string });
      });
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
    said.catch(() => undefined);
    return { child, said };
  }

  it('hands the lock to the first waiter of another process, which sends nothing after the release', async () => {
    const key = 'grant-to-paused-waiter';
    // fair: a default-mode release may keep the lock for a retake here for one turn first (cohort handoff)
    const holder = await redis.app.service.acquire(key, { fair: true });
    const { child, said } = waitingWorker(key);
    try {
      await redis.waitForQueue(key, 1);
      child.kill('SIGSTOP'); // from here on the waiter sends no command at all
      await holder.release();
      const info = await redis.app.service.inspect(key);
      assert.ok(info, 'the lock is held right after the release');
      assert.equal(info?.holder.pid, child.pid, 'the release itself gave the lock to the paused waiter');
      assert.ok(info.fencingToken > holder.fencingToken, 'with a new fencing token');
      assert.equal(await queueLength(key), 0, 'its place was taken off the queue');
      child.kill('SIGCONT');
      assert.equal((await said).acquired, String(info.fencingToken), 'the waiter learns it holds the lock, with that token');
      const renewed = await eventually(
        () => redis.app.service.inspect(key),
        (now) => (now?.ttlLeftMs ?? 0) > 2_000,
        10_000,
      );
      assert.equal(renewed?.holder.pid, child.pid, "and keeps it: keep-alive moved the grant's short lease to its 60 s TTL");
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a waiter whose wait ends while the lock is granted to it leaves nothing held: the lock goes on to the next', async () => {
    const key = 'grant-to-timed-out-waiter';
    const holder = await redis.app.service.acquire(key);
    const { child, said } = waitingWorker(key, 500);
    try {
      await redis.waitForQueue(key, 1);
      child.kill('SIGSTOP');
      // fair: a default-mode waiter in the releasing process could be passed the lock first (cohort handoff)
      const next = redis.app.service.acquire(key, { waitTime: 20_000, fair: true });
      await redis.waitForQueue(key, 2);
      await sleep(600); // the paused worker's 500 ms wait runs out while it is stopped
      await holder.release();
      const grantedAt = performance.now();
      assert.equal((await redis.app.service.inspect(key))?.holder.pid, child.pid, 'granted to the paused worker');
      child.kill('SIGCONT');
      // the worker gives up: the grant came after its wait time. Busy, or unavailable when its last ask was sent just
      // before the pause: resumed, it cannot tell a server that did not answer from its own pause (DESIGN §3.8)
      assert.ok(['LOCK_WAIT_TIMEOUT', 'LOCKER_UNAVAILABLE'].includes((await said).error as string), 'the worker gives up');
      // its leave script passes the lock on at once; a lease left to run out would keep the next waiter 2 s
      const lock = await next;
      const heldAfter = performance.now() - grantedAt;
      assert.ok(heldAfter < 1_900, `the next waiter had it ${heldAfter} ms after the grant, before the worker's 2 s lease could run out`);
      assert.ok(lock.held);
      assert.equal(await queueLength(key), 0, 'nothing of the worker is queued');
      assert.equal(await redis.inspector.hlen(`nest-locker:{${key}}:queue-ttls`), 0, 'nor its TTL');
      await lock.release();
      assert.equal(await redis.app.service.inspect(key), null, 'nothing held once the next holder released');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a waiter that stalled past its grant does not take it when it comes back: the lease ran out and another holds the key', async () => {
    const key = 'grant-to-stalled-waiter';
    const holder = await redis.app.service.acquire(key);
    const { child, said } = waitingWorker(key);
    try {
      await redis.waitForQueue(key, 1);
      child.kill('SIGSTOP');
      const next = redis.app.service.acquire(key, { waitTime: 20_000, fair: true }); // fair: see above
      await redis.waitForQueue(key, 2);
      await holder.release(); // granted to the stopped worker, which never hears of it in time
      const lock = await next; // once that grant's 2 s lease ran out
      child.kill('SIGCONT'); // it now hears the old grant, and its own ask finds the lock busy
      await redis.waitForQueue(key, 1); // it queued again behind the new holder
      assert.ok(lock.held, 'the new holder still holds the lock');
      assert.equal((await redis.app.service.inspect(key))?.fencingToken, lock.fencingToken, 'and the server says so');
      await lock.release();
      const { acquired } = await said;
      assert.ok(
        acquired !== undefined && BigInt(acquired) > lock.fencingToken,
        `the worker got the lock after the new holder, not the stale grant (${acquired})`,
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a waiter killed while first in line holds the lock at most FAIR_PLACE_MS (2 s) after the grant', async () => {
    const key = 'grant-to-killed-waiter';
    const holder = await redis.app.service.acquire(key);
    const { child } = waitingWorker(key);
    await redis.waitForQueue(key, 1);
    child.kill('SIGKILL');
    const next = redis.app.service.acquire(key, { waitTime: 20_000, fair: true }); // fair: see above

    await redis.waitForQueue(key, 2);
    await holder.release();
    const info = await redis.app.service.inspect(key);
    assert.ok(info, 'the lock is held right after the release');
    assert.equal(info?.holder.pid, child.pid, 'its place was still live: the release granted it the lock');
    assert.ok(info.ttlLeftMs <= 2_000, `a grant's lease is at most 2 s until the grantee extends it, got ${info.ttlLeftMs} ms`);
    const lock = await next; // once that short lease has run out, not the worker's 60 s TTL
    assert.ok(lock.held);
    await lock.release();
  });

  it('a fixed-TTL lock granted by a release has its own TTL, since nothing would extend it', async () => {
    const key = 'grant-fixed-ttl';
    const other = await startLockerApp(redis.config());
    try {
      const holder = await other.service.acquire(key);
      const waiting = redis.app.service.acquire(key, { ttl: 30_000, keepAlive: false, waitTime: 20_000 });
      await redis.waitForQueue(key, 1);
      await holder.release();
      const lock = await waiting;
      const info = await eventually(
        () => redis.app.service.inspect(key),
        (read) => (read?.ttlLeftMs ?? 0) > 2_000,
      );
      assert.equal(info?.fencingToken, lock.fencingToken, 'the grant gave the lock its 30 s TTL');
      await lock.release();
    } finally {
      await other.close();
    }
  });

  it('serves waiters of different processes in the order they arrived', async () => {
    const key = 'grant-fifo-across-processes';
    const dir = mkdtempSync(join(tmpdir(), 'grant-fifo-'));
    const counterFile = join(dir, 'counter');
    writeFileSync(counterFile, '0');
    const holder = await redis.app.service.acquire(key);
    const workers: Promise<{ token: string }[]>[] = [];
    for (let i = 1; i <= 3; i++) {
      workers.push(runHammer({ key, iterations: 1, counterFile, config: redis.config() }));
      await redis.waitForQueue(key, i); // the next one arrives after this one is in line
    }
    await holder.release();
    const tokens = (await Promise.all(workers)).map(([section]) => BigInt(section.token));
    assert.deepEqual(
      tokens,
      [...tokens].sort((a, b) => (a < b ? -1 : 1)),
      'each took the lock after the one that arrived before it',
    );
  });
});
