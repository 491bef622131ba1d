import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Lock, LockLostError } from 'nest-locker';
import { redisCommand } from './harness/redis-command';
import { RedisSentinelSetup, startRedisSentinel } from './harness/redis-sentinel';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { FaultProxy } from './harness/fault-proxy';
import { abortReason, eventually } from './helpers/wait';

const lockName = (key: string): string => `nest-locker:{${key}}`;
const now = (): number => performance.now();
/** `who` (a lock's holder) was told of its loss (at `told`) before another node took the lock at `takenAt`. */
function assertToldBefore(told: number | undefined, takenAt: number, who: string): asserts told is number {
  const when =
    told === undefined
      ? 'never told, and another node took the lock'
      : `told ${(told - takenAt).toFixed(0)} ms after another node took the lock`;
  assert.ok(told !== undefined && told < takenAt, `${who} was ${when}`);
}

/** When `lock` was told it is lost (its signal aborted), in `now()` time; undefined until then. */
function toldAt(lock: Lock): () => number | undefined {
  let at: number | undefined;
  if (lock.signal.aborted) at = now();
  else lock.signal.addEventListener('abort', () => (at = now()), { once: true });
  return () => at;
}

/**
 * Sentinel failovers while a lock is held and another node waits for it. The holder must be told before any
 * node can take its lock on the new master, however the master changed.
 */
describe('redis driver behind Redis Sentinel: failovers while locks are held', () => {
  let setup: RedisSentinelSetup | undefined;
  const apps: LockerApp[] = [];
  const app = async (): Promise<LockerApp> => {
    const config = {
      redis: { sentinels: setup?.sentinelAddrs, master_name: setup?.masterName },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
    };
    const started = await startLockerApp(config);
    apps.push(started);
    return started;
  };
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((started) => started.close()));
    await setup?.stop();
    setup = undefined;
  });

  /**
   * The maintenance path: the old master keeps running, and stays master for ~10 s after the replica was
   * promoted. A node that starts meanwhile finds the new master, where the key lives only as long as its last
   * renewal that reached the replica. Before the fix the holder went on renewing on the old master and both
   * held the lock for 8-9 s (3 s TTL).
   */
  it('a planned failover (SENTINEL FAILOVER, the old master left running): the holder is told before a node that joins after it takes the lock', async (t) => {
    setup = await startRedisSentinel();
    const key = `planned-${process.pid}`;
    const ttl = 3000;
    const [holder, waiter] = [await app(), await app()];
    const held = await holder.service.acquire(key, { ttl });
    const heldToldAt = toldAt(held);
    let waited: { at: number; told: () => number | undefined } | undefined;
    const waiting = waiter.service.acquire(key, { ttl, waitTime: 30_000 }).then((lock) => {
      waited = { at: now(), told: toldAt(lock) };
      return lock;
    });
    waiting.catch(() => undefined); // judged below

    await setup.plannedFailover();
    const joined = await app(); // connects after the failover: the sentinels name the new master
    const taken = await joined.service.acquire(key, { ttl, waitTime: 30_000 });
    const takenAt = now();
    const told = heldToldAt();
    assertToldBefore(told, takenAt, 'the holder');
    t.diagnostic(`the holder was told ${(takenAt - told).toFixed(0)} ms before the other node took the lock`);
    // told by the sentinels' word (a failover under way), not only when its renewals stopped counting
    assert.ok(held.signal.reason instanceof LockLostError, `told with ${String(held.signal.reason)}`);
    assert.equal(held.signal.reason.reason, 'disconnected', held.signal.reason.message);
    assert.match(held.signal.reason.message, /fail/);
    assert.equal(held.held, false);
    assert.ok(taken.fencingToken > held.fencingToken, `token ${taken.fencingToken} after ${held.fencingToken}`);
    if (waited && waited.at < takenAt) {
      // granted while the master changed, and given up with the locks held through it: told before the other node took it
      assertToldBefore(waited.told(), takenAt, 'the waiter, not to hold it alongside,');
    }
    const releasedAt = now();
    await taken.release();

    // the holder's node moved to the new master while the old one still ran as a master (it is demoted ~10 s on)
    const next = await eventually(
      () => holder.service.tryAcquire(`${key}-next`).catch(() => null),
      (lock) => lock !== null,
      8000,
    );
    assert.ok(next, "the holder's node takes locks again after the failover");
    assert.equal(await redisCommand(setup.replica.port, 'EXISTS', lockName(next.key)), 1, 'on the new master');
    assert.equal(((await redisCommand(setup.master.port, 'ROLE')) as string[])[0], 'master', 'the old master was not demoted yet');
    await next.release();

    // the node that waited through the failover took it after the others, or gave up (its request failed
    // when the lock granted to it could not be confirmed on a replica)
    const waitedLock = await waiting.catch((error: Error) => t.diagnostic(`the waiter gave up: ${error.message}`));
    if (waitedLock && waited && waited.at >= takenAt) {
      assert.ok(waited.at > releasedAt, 'the waiter took it after the node that joined released it');
      assert.ok(waitedLock.fencingToken > taken.fencingToken, `token ${waitedLock.fencingToken} after ${taken.fencingToken}`);
    }
    if (waitedLock) await waitedLock.release();
  });

  /**
   * Without the sentinels' word (a holder cut off from them, or a failover faster than it asks them), only the
   * replicas tell: once the replica is promoted it acknowledges none of the old master's writes, so the holder's
   * renewals there stop counting and it is told at its deadline, which comes before the key's lease on the new
   * master (that lease counts from the last renewal the replica acknowledged).
   */
  it('a planned failover the holder cannot learn from the sentinels: its renewals on the old master go unacknowledged, and it is told at its deadline, before the lock ends on the new master', async (t) => {
    setup = await startRedisSentinel();
    const proxies = await Promise.all(setup.sentinelAddrs.map((addr) => FaultProxy.start(Number(addr.split(':')[1]))));
    try {
      const key = `blind-${process.pid}`;
      const ttl = 3000;
      const holder = await startLockerApp({
        redis: { sentinels: proxies.map((proxy) => proxy.addr), master_name: setup.masterName },
        locker: { driver: 'redis', driver_instance_id: 'redis' },
      });
      apps.push(holder);
      const held = await holder.service.acquire(key, { ttl });
      const heldToldAt = toldAt(held);
      proxies.forEach((proxy) => proxy.set({ kind: 'cut' })); // the holder's connection to the master stays

      await setup.plannedFailover();
      const joined = await app();
      const taken = await joined.service.acquire(key, { ttl, waitTime: 30_000 });
      const takenAt = now();
      const told = heldToldAt();
      assertToldBefore(told, takenAt, 'the holder');
      t.diagnostic(`told ${(takenAt - told).toFixed(0)} ms before the other node took the lock`);
      assert.equal((held.signal.reason as LockLostError).reason, 'deadline', String(held.signal.reason));
      assert.ok(taken.fencingToken > held.fencingToken);
      await taken.release();
    } finally {
      await Promise.all(apps.splice(0).map((started) => started.close()));
      await Promise.all(proxies.map((proxy) => proxy.close()));
    }
  });

  it('an unplanned failover (the master killed): the holder is told at once, before a node that joins after it takes the lock', async () => {
    setup = await startRedisSentinel();
    const key = `unplanned-${process.pid}`;
    const ttl = 3000;
    const [holder, waiter] = [await app(), await app()];
    const held = await holder.service.acquire(key, { ttl });
    const heldToldAt = toldAt(held);
    let waited: { at: number; told: () => number | undefined } | undefined;
    const waiting = waiter.service.acquire(key, { ttl, waitTime: 30_000 }).then((lock) => {
      waited = { at: now(), told: toldAt(lock) };
      return lock;
    });
    waiting.catch(() => undefined);

    await setup.failover();
    assert.ok((await abortReason(held.signal, ttl)) instanceof LockLostError, 'told when its connection dropped');
    const joined = await app();
    const taken = await joined.service.acquire(key, { ttl, waitTime: 30_000 });
    const takenAt = now();
    const told = heldToldAt();
    assert.ok(told !== undefined && told < takenAt);
    assert.ok(taken.fencingToken > held.fencingToken, `token ${taken.fencingToken} after ${held.fencingToken}`);
    await taken.release();
    const waitedLock = await waiting.then(
      (lock) => lock,
      () => undefined,
    );
    if (waitedLock && waited) {
      if (waited.at < takenAt) {
        // granted while the master changed, and given up with the locks held through it: told before the other node took it
        assertToldBefore(waited.told(), takenAt, 'the waiter');
      } else {
        assert.ok(waitedLock.fencingToken > taken.fencingToken, `token ${waitedLock.fencingToken} after ${taken.fencingToken}`);
      }
      await waitedLock.release();
    }
  });
});
