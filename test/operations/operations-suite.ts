import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { after, before, it } from 'node:test';
import { LockInfo, LockLostError } from 'nest-locker';
import type { LockerDriver } from 'nest-locker/driver-kit';
import type { DriverFixture } from '../conformance/driver-fixtures';
import { LockerApp, startLockerApp } from '../helpers/locker-app';
import { abortReason, eventually } from '../helpers/wait';
import { startHolder } from '../helpers/workers';
import { settleWithin } from '../../lib/utils/settle-within';

/** A woken waiter takes the lock in a round trip or two; this leaves a busy 2-core machine ample room. */
const WOKEN_WITHIN_MS = 10_000;

let keyCounter = 0;
const freshKey = (name: string): string => `${name}-${process.pid}-${++keyCounter}`;

/** What an operations suite needs of a backend: the seed-shaped config of one node. */
export type OperationsFixture = Pick<DriverFixture, 'driver' | 'shortTtl' | 'config' | 'close' | 'state'>;

/**
 * Who holds a lock, an operator's unlock, the listing, written once and run against every driver (and
 * redis Cluster, Sentinel, an etcd cluster). The holder is another OS process where the backend is shared.
 */
export function operationsSuite(makeFixture: () => Promise<OperationsFixture>): void {
  let fixture: OperationsFixture;
  let app: LockerApp; // the operator's node
  let other: LockerApp; // a node that holds and waits
  const children: ChildProcess[] = [];
  const shared = () => fixture.driver !== 'memory';
  /** Renewed every ttl / 3: a busy machine's stall does not lose it. */
  const keptTtl = () => Math.max(fixture.shortTtl, 1000);
  const driverOf = (node: LockerApp): LockerDriver => node.driver(fixture.driver);
  /** The default key_prefix of the driver: what list() takes. */
  const keyPrefix = () => ({ memory: '', redis: 'nest-locker:', etcd: 'nest-locker/' })[fixture.driver];

  before(async () => {
    fixture = await makeFixture();
    app = await startLockerApp(fixture.config());
    other = shared() ? await startLockerApp(fixture.config()) : app;
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    if (other !== app) await other?.close();
    await app?.close();
    await fixture?.close();
  });

  /** Holds `key` in another process (this one for memory): its pid and fencing token. */
  async function holdElsewhere(key: string, ttl = 30_000): Promise<{ pid: number; token: bigint }> {
    if (!shared()) {
      const lock = await other.service.acquire(key, { ttl });
      return { pid: process.pid, token: lock.fencingToken };
    }
    const { child, token } = await startHolder({ config: fixture.config(), key, ttl });
    children.push(child);
    return { pid: child.pid as number, token };
  }

  it('health() reports the driver up, with the locks held here', async () => {
    const key = freshKey('ops-health');
    const lock = await app.service.acquire(key, { ttl: keptTtl() });
    try {
      const health = await app.service.health();
      assert.equal(health.status, 'up', JSON.stringify(health));
      const [driver] = Object.values(health.drivers);
      assert.equal(driver.heldLocks, 1);
    } finally {
      await lock.release();
    }
  });

  it('inspect() of a free key is null, and forceRelease() of it is false', async () => {
    const key = freshKey('ops-free');
    assert.equal(await app.service.inspect(key), null);
    assert.equal(await app.service.forceRelease(key), false);
  });

  it('inspect() names the holder (host, pid, owner id), its fencing token and the TTL left', async () => {
    const key = freshKey('ops-inspect');
    const held = await holdElsewhere(key, 30_000);
    const info = (await app.service.inspect(key)) as LockInfo;
    assert.ok(info, 'the lock is seen');
    assert.equal(info.key, key);
    assert.equal(info.fencingToken, held.token);
    assert.equal(info.holder.pid, held.pid);
    assert.equal(info.holder.host, hostname());
    assert.match(info.holder.id, /^[\w-]{8,}$/);
    if (shared()) assert.notEqual(info.holder.id, driverOf(app).holder?.id, 'the holder is not the inspecting node');
    assert.ok(info.ttlLeftMs > 0 && info.ttlLeftMs <= 30_000, `TTL left ${info.ttlLeftMs} ms`);
  });

  it('inspect() counts the waiters where the driver knows them', async () => {
    const key = freshKey('ops-waiting');
    const lock = await app.service.acquire(key, { ttl: keptTtl() });
    // redis knows one waiter per waiting process (its first, which queues on the server); etcd and memory know every waiter
    const waiter = other.service.acquire(key);
    const info = await eventually(
      () => app.service.inspect(key),
      (read) => read?.waiting === 1,
    );
    assert.equal(info?.waiting, 1);
    await lock.release();
    await (await waiter).release();
  });

  it('forceRelease() removes the holder: it is told at its next renewal, and the next holder has a higher token', async () => {
    const key = freshKey('ops-force');
    const lock = await other.service.acquire(key, { ttl: keptTtl() });
    assert.equal(await app.service.forceRelease(key), true);
    const reason = await abortReason(lock.signal, keptTtl() * 2);
    assert.ok(reason instanceof LockLostError, `the holder's signal aborts with LockLostError, got ${String(reason)}`);
    assert.equal(lock.held, false);
    const next = await app.service.acquire(key, { waitTime: 5_000 });
    assert.ok(next.fencingToken > lock.fencingToken, `${next.fencingToken} > ${lock.fencingToken}`);
    await next.release();
  });

  it('forceRelease() wakes a waiter at once, long before the holder would have been told', async () => {
    const key = freshKey('ops-wake');
    const held = await holdElsewhere(key, 60_000);
    // the holder's lease is 60 s (renewed every 20 s): without a wake-up the waiter would sleep until its waitTime
    const waiting = app.service.acquire(key, { waitTime: 30_000 });
    // waiting: on redis subscribed to the key's releases, elsewhere queued behind the holder
    const waiter = await eventually(
      () => fixture.state(key, driverOf(app)),
      (state) => (fixture.driver === 'redis' ? state.subscriptions > 0 : state.entries > 1),
    );
    assert.ok(waiter.subscriptions > 0 || waiter.entries > 1, 'the waiter waits');
    assert.equal(await app.service.forceRelease(key), true);
    assert.ok(await settleWithin(waiting, WOKEN_WITHIN_MS), `the waiter was woken: it holds the lock within ${WOKEN_WITHIN_MS} ms`);
    const next = await waiting;
    assert.ok(next.fencingToken > held.token, `${next.fencingToken} > ${held.token}`);
    await next.release();
  });

  it('list() returns every held lock under the key prefix with its holder, and nothing once released', async () => {
    const keys = [freshKey('ops-list-a'), freshKey('ops-list-b{x}'), freshKey('ops-list-c/%')];
    const locks = await Promise.all(keys.map((key) => other.service.acquire(key, { ttl: keptTtl() })));
    const listed = await driverOf(app).list?.(keyPrefix());
    const mine = (listed ?? []).filter((info) => keys.includes(info.key));
    assert.deepEqual(
      mine.map((info) => [info.key, info.fencingToken, info.holder.pid, info.holder.id]),
      keys
        .map((key, index) => [key, locks[index].fencingToken, process.pid, driverOf(other).holder?.id])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    await Promise.all(locks.map((lock) => lock.release()));
    const after = (await driverOf(app).list?.(keyPrefix())) ?? [];
    assert.deepEqual(
      after.filter((info) => keys.includes(info.key)),
      [],
    );
  });
}
