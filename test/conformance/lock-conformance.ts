import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { firstValueFrom, filter, toArray, take } from 'rxjs';
import { Lock, LockContext, LockerConfigError, LockEvent, LockLostError, LockReleasedError, LockWaitTimeoutError } from 'nest-locker';
import { LockerApp, startLockerApp } from '../helpers/locker-app';
import { abortReason, eventually, sleep } from '../helpers/wait';
import { overlaps, runHammer, startHolder } from '../helpers/workers';
import type { DriverFixture } from './driver-fixtures';

let keyCounter = 0;
const freshKey = (name: string): string => `${name}-${process.pid}-${++keyCounter}`;
/**
 * The TTL of tests that need keep-alive to hold: renewed every ttl / 3, so a 250 ms stall of a busy
 * machine's event loop (which legitimately loses a 400 ms lease) leaves it held.
 */
const keptTtl = (fixture: DriverFixture): number => Math.max(fixture.shortTtl, 1000);

/** The contract of DESIGN.md §3, written once and run against every driver. */
export function lockConformanceSuite(driver: DriverFixture['driver'], makeFixture: () => Promise<DriverFixture>): void {
  let fixture: DriverFixture;
  let app: LockerApp;
  let other: LockerApp; // a second app on the same backend: another node, in-process

  before(async () => {
    fixture = await makeFixture();
    app = await startLockerApp(fixture.config());
    other = fixture.driver === 'memory' ? app : await startLockerApp(fixture.config());
  });
  after(async () => {
    await other?.close();
    await app?.close();
    await fixture?.close();
  });

  const state = (key: string) => fixture.state(key, app.driver(fixture.driver));
  /** The key's state once the server had time to drop everything (eventually, so not a timing assertion). */
  // a wake-up source outlives a last waiter that got the lock by WAKE_SOURCE_LINGER_MS (1 s), for the key's next wait
  const emptied = (key: string) =>
    eventually(
      () => state(key),
      (s) => s.entries === 0 && s.subscriptions === 0,
    );
  const startApps = (count: number) => Promise.all(Array.from({ length: count }, () => startLockerApp(fixture.config())));

  describe('the seed usages', () => {
    it('lock() blocks until the holder unlocks, then the waiter holds it', async () => {
      const key = freshKey('seed-permanent');
      const first = app.service.create();
      const second = other.service.create();
      await first.lock(key);
      const order: string[] = [];
      const waiting = second.lock(key).then(() => order.push('second acquired'));
      await sleep(150);
      order.push('first unlocks');
      await first.unlock();
      await waiting;
      assert.deepEqual(order, ['first unlocks', 'second acquired']);
      assert.equal(second.current?.key, key);
      assert.ok(second.current.fencingToken > 0n);
      await second.unlock();
      await second.unlock(); // idempotent
      assert.equal(second.current, undefined);
    });

    it('a fixed-TTL lock without keep-alive expires by itself and its holder is told', async () => {
      const key = freshKey('seed-ttl');
      const ttl = fixture.shortTtl;
      const locker = app.service.create();
      await locker.lock(key, { ttl, keepAlive: false });
      const lock = locker.current!;
      assert.equal(await other.service.tryAcquire(key), null);
      const reason = await abortReason(lock.signal, ttl + 1000);
      assert.ok(reason instanceof LockLostError);
      assert.equal(reason.reason, 'expired');
      assert.equal(lock.held, false);
      const next = await other.service.acquire(key, { waitTime: 3000 });
      assert.ok(next.fencingToken > lock.fencingToken);
      await next.release();
      await locker.unlock();
    });

    it('a wait time rejects with LockWaitTimeoutError and leaves nothing of the attempt behind', async () => {
      const key = freshKey('seed-wait');
      const holder = await app.service.acquire(key);
      const started = performance.now();
      const error = await other.service
        .create()
        .lock(key, { waitTime: 300 })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      const waited = performance.now() - started;
      assert.ok(error instanceof LockWaitTimeoutError, `expected LockWaitTimeoutError, got ${String(error)}`);
      assert.equal(error.code, 'LOCK_WAIT_TIMEOUT');
      assert.equal(error.key, key);
      assert.equal(error.waitTime, 300);
      assert.ok(waited >= 299, `gave up after ${waited} ms, before its waitTime`);
      assert.deepEqual(
        await eventually(
          () => state(key),
          (s) => s.entries === 1 && s.subscriptions === 0,
        ),
        { entries: 1, subscriptions: 0 },
      );
      assert.equal(holder.held, true, 'the holder keeps its lock');
      await holder.release();
      assert.deepEqual(await emptied(key), { entries: 0, subscriptions: 0 }, 'nothing of the lock is left on the server');
    });
  });

  describe('acquire, tryAcquire, withLock', () => {
    it('tryAcquire makes one attempt: null while held, a lock once free', async () => {
      const key = freshKey('try');
      const lock = await app.service.acquire(key);
      assert.equal(await other.service.tryAcquire(key), null);
      await lock.release();
      const next = await other.service.tryAcquire(key);
      assert.ok(next?.held);
      await next.release();
    });

    it('withLock runs the body under the lock, exposes it in LockContext and releases on success and on throw', async () => {
      const key = freshKey('with');
      let seen: Lock | undefined;
      const result = await app.service.withLock(key, async (lock) => {
        seen = LockContext.current();
        assert.equal(await other.service.tryAcquire(key), null);
        return lock.fencingToken;
      });
      assert.equal(seen?.key, key);
      assert.equal(result, seen.fencingToken);
      assert.equal(seen.held, false);
      assert.ok(seen.signal.reason instanceof LockReleasedError);
      await assert.rejects(
        app.service.withLock(key, async () => {
          throw new Error('body failed');
        }),
        /body failed/,
      );
      const free = await other.service.tryAcquire(key);
      assert.ok(free, 'released after the body threw');
      await free.release();
      assert.equal(LockContext.current(), undefined);
    });

    it('await using releases at the end of the block', async () => {
      const key = freshKey('using');
      {
        await using lock = await app.service.acquire(key);
        assert.equal(lock.held, true);
      }
      const next = await other.service.tryAcquire(key);
      assert.ok(next);
      await next.release();
    });

    it('an aborted wait rejects with the signal reason and leaves nothing queued', async () => {
      const key = freshKey('abort');
      const holder = await app.service.acquire(key);
      const controller = new AbortController();
      const waiting = other.service.acquire(key, { signal: controller.signal });
      await sleep(100);
      controller.abort(new Error('caller gave up'));
      await assert.rejects(waiting, /caller gave up/);
      assert.deepEqual(
        await eventually(
          () => state(key),
          (s) => s.entries === 1 && s.subscriptions === 0,
        ),
        { entries: 1, subscriptions: 0 },
      );
      await holder.release();
      const next = await other.service.acquire(key, { waitTime: 1000 });
      await next.release();
    });

    it('waiters are served as soon as the holder releases, each exactly once', async () => {
      const key = freshKey('waiters');
      const holder = await app.service.acquire(key);
      const got: bigint[] = [];
      const waiters = Array.from({ length: 5 }, (_, i) =>
        (i % 2 ? other : app).service.withLock(
          key,
          async (lock) => {
            got.push(lock.fencingToken);
            await sleep(5);
          },
          { waitTime: 10_000 },
        ),
      );
      await sleep(50);
      await holder.release();
      await Promise.all(waiters);
      assert.equal(got.length, 5);
      assert.deepEqual(
        [...got].sort((a, b) => (a < b ? -1 : 1)),
        got,
        'tokens grow in the order the lock was held',
      );
      assert.ok(got[0] > holder.fencingToken);
    });
  });

  describe('fair mode', () => {
    it('serves waiters on different nodes in the order they arrived', async () => {
      const key = freshKey('fair-order');
      const nodes = fixture.driver === 'memory' ? [app, app, app, app] : [other, ...(await startApps(3))];
      try {
        const holder = await app.service.acquire(key, { fair: true });
        const served: number[] = [];
        const waiters: Promise<void>[] = [];
        for (const [index, node] of nodes.entries()) {
          waiters.push(node.service.withLock(key, async () => void served.push(index), { fair: true, waitTime: 10_000 }));
          await eventually(
            () => state(key),
            (s) => s.entries === index + 2,
          );
        }
        await holder.release();
        await Promise.all(waiters);
        assert.deepEqual(served, [0, 1, 2, 3]);
      } finally {
        if (fixture.driver !== 'memory') await Promise.all(nodes.slice(1).map((node) => node.close()));
      }
    });

    it('a fair waiter that gives up leaves the queue, and the next one is served', async () => {
      const key = freshKey('fair-leave');
      const holder = await app.service.acquire(key, { fair: true });
      const quitter = other.service.acquire(key, { fair: true, waitTime: 300 });
      await eventually(
        () => state(key),
        (s) => s.entries === 2,
      );
      const patient = app.service.acquire(key, { fair: true, waitTime: 10_000 });
      await assert.rejects(quitter, LockWaitTimeoutError);
      await holder.release();
      const next = await patient;
      assert.equal((await state(key)).entries, 1);
      await next.release();
      assert.deepEqual(await emptied(key), { entries: 0, subscriptions: 0 }, 'nothing of the lock is left on the server');
    });
  });

  describe('leases', () => {
    it('keep-alive holds the lock well past its TTL', async () => {
      const key = freshKey('keepalive');
      const ttl = keptTtl(fixture);
      const lock = await app.service.acquire(key, { ttl });
      await sleep(ttl * 1.6);
      assert.equal(lock.held, true);
      assert.equal(lock.signal.aborted, false);
      assert.equal(await other.service.tryAcquire(key), null);
      await lock.release();
    });

    it('a lock that waited longer than its TTL is fully held once taken', async () => {
      const key = freshKey('long-wait');
      const ttl = keptTtl(fixture);
      const holder = await app.service.acquire(key, { ttl });
      const waiting = other.service.acquire(key, { ttl });
      await sleep(ttl * 1.1);
      await holder.release();
      const lock = await waiting;
      assert.equal(lock.held, true);
      await sleep(ttl * 1.1);
      assert.equal(lock.held, true, 'kept alive after taking it');
      assert.equal(lock.signal.aborted, false);
      await lock.release();
    });

    it('extend() renews a fixed-TTL lock; release is idempotent', async () => {
      const key = freshKey('extend');
      const ttl = keptTtl(fixture); // a stall within the first 0.6 × ttl must not expire it before extend()
      const lock = await app.service.acquire(key, { ttl, keepAlive: false });
      await sleep(ttl * 0.6);
      await lock.extend(ttl * 2);
      await sleep(ttl * 0.6);
      assert.equal(lock.held, true, 'still held after the first TTL ran out');
      assert.equal(await other.service.tryAcquire(key), null);
      await lock.release();
      await lock.release();
      assert.equal(lock.held, false);
    });

    it('extend() to a shorter TTL shortens the lease: kept alive at the new pace, or expiring sooner', async () => {
      const ttl = keptTtl(fixture);
      const kept = await app.service.acquire(freshKey('shorter-kept'), { ttl: ttl * 5 });
      await kept.extend(ttl);
      await sleep(ttl * 1.5);
      assert.equal(kept.held, true, 'renewed every ttl / 3 of the new TTL');
      assert.equal(await other.service.tryAcquire(kept.key), null);
      await kept.release();

      const fixed = await app.service.acquire(freshKey('shorter-fixed'), { ttl: ttl * 5, keepAlive: false });
      await fixed.extend(ttl);
      const next = await other.service.acquire(fixed.key, { waitTime: ttl * 3 });
      assert.equal(fixed.held, false, 'the old holder no longer believes it holds the lock');
      assert.ok(fixed.signal.reason instanceof LockLostError);
      await next.release();
    });

    it("a stale holder's release and extend change nothing for the next holder", async () => {
      const key = freshKey('stale');
      const ttl = fixture.shortTtl;
      const stale = await app.service.acquire(key, { ttl, keepAlive: false });
      const next = await other.service.acquire(key, { waitTime: ttl + 3000 });
      assert.ok(next.fencingToken > stale.fencingToken);
      await assert.rejects(stale.extend(), LockLostError);
      await stale.release();
      assert.equal(next.held, true);
      assert.equal((await state(key)).entries, 1, 'the next holder is still on the server');
      assert.equal(await app.service.tryAcquire(key), null);
      await next.extend();
      await next.release();
    });

    it('fencing tokens only grow across releases and expiries', async () => {
      const key = freshKey('fence');
      const tokens: bigint[] = [];
      for (let i = 0; i < 3; i++) {
        const lock = await (i % 2 ? other : app).service.acquire(key);
        tokens.push(lock.fencingToken);
        await lock.release();
      }
      const expiring = await app.service.acquire(key, { ttl: fixture.shortTtl, keepAlive: false });
      tokens.push(expiring.fencingToken);
      const after = await other.service.acquire(key, { waitTime: fixture.shortTtl + 3000 });
      tokens.push(after.fencingToken);
      await after.release();
      for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i] > tokens[i - 1], `token ${tokens[i]} after ${tokens[i - 1]}`);
    });

    it('emits acquired, released and lost events', async () => {
      const key = freshKey('events');
      const seen = firstValueFrom(
        app.service.events.pipe(
          filter((event: LockEvent) => event.key === key),
          take(4),
          toArray(),
        ),
      );
      const first = await app.service.acquire(key);
      await first.release();
      const second = await app.service.acquire(key, { ttl: fixture.shortTtl, keepAlive: false });
      const events = await seen;
      assert.deepEqual(
        events.map((event) => event.type),
        ['acquired', 'released', 'acquired', 'lost'],
      );
      const lost = events[3] as Extract<LockEvent, { type: 'lost' }>;
      assert.equal(lost.error.reason, 'expired');
      assert.equal(lost.fencingToken, second.fencingToken);
      assert.equal(lost.driverInstanceId, fixture.driver);
    });
  });

  describe('bad options at the call', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['zero ttl', { ttl: 0 }, 'ttl'],
      ['negative ttl', { ttl: -5 }, 'ttl'],
      ['fractional ttl', { ttl: 1.5 }, 'ttl'],
      ['ttl as a string', { ttl: '10s' }, 'ttl'],
      ['negative waitTime', { waitTime: -1 }, 'waitTime'],
      ['non-boolean keepAlive', { keepAlive: 'no' }, 'keepAlive'],
      ['a typo in an option', { ttll: 1000 }, 'ttll'],
      ['a TTL past what a timer can wait', { ttl: 2 ** 31 }, 'ttl'],
      ['a waitTime past what a timer can wait', { waitTime: 2 ** 31 }, 'waitTime'],
      ['an unknown locker section', { locker: 'nope' }, 'locker'],
    ];
    for (const [name, options, field] of cases) {
      it(`${name} fails with LockerConfigError naming "${field}", and a held lock is kept`, async () => {
        const key = freshKey('bad');
        const held = await app.service.acquire(key);
        const error = await app.service.acquire(key, options as never).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        assert.ok(error instanceof LockerConfigError, `expected LockerConfigError, got ${String(error)}`);
        assert.equal(error.field, field);
        assert.match(error.message, new RegExp(field));
        assert.equal(held.held, true);
        await held.release();
      });
    }

    it('an empty key fails with LockerConfigError naming "key"', async () => {
      for (const key of ['', undefined, 42]) {
        const error = await app.service.acquire(key as never).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        assert.ok(error instanceof LockerConfigError);
        assert.equal(error.field, 'key');
      }
    });
  });

  describe('many acquisitions at once', () => {
    it('twenty in flight in one app print no MaxListenersExceededWarning, and each gets the lock in turn', async () => {
      const key = freshKey('many-in-flight');
      const busy = await startLockerApp(fixture.config()); // Node warns once per signal: a fresh app
      const warnings: Error[] = [];
      const onWarning = (warning: Error): number => warnings.push(warning);
      process.on('warning', onWarning);
      try {
        const holder = await busy.service.acquire(key);
        const controller = new AbortController(); // half of them with a signal of their own, as a request would pass
        const tokens: bigint[] = [];
        const waiting = Array.from({ length: 20 }, (_, index) =>
          busy.service.acquire(key, { waitTime: 60_000, signal: index % 2 ? controller.signal : undefined }).then(async (lock) => {
            tokens.push(lock.fencingToken);
            await lock.release();
          }),
        );
        await new Promise((resolve) => setImmediate(resolve)); // listeners are added at the call; warnings come on a later tick
        await holder.release();
        await Promise.all(waiting);
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(tokens.length, 20);
        assert.deepEqual(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning').map(String), []);
      } finally {
        process.off('warning', onWarning);
        await busy.close();
      }
    });
  });

  describe('application shutdown', () => {
    it('gives back a lock whose acquisition was in flight when shutdown began', async () => {
      const key = freshKey('shutdown-in-flight');
      const leaving = await startLockerApp(fixture.config());
      const acquiring = leaving.service.acquire(key).then(
        (lock) => lock,
        (error: unknown) => error,
      );
      await leaving.close();
      const outcome = await acquiring;
      if (outcome instanceof Error) assert.equal((outcome as { code?: string }).code, 'LOCKER_CLOSED');
      else assert.equal((outcome as Lock).held, false, 'not held after shutdown');
      if (driver !== 'memory')
        assert.deepEqual(await emptied(key), { entries: 0, subscriptions: 0 }, 'nothing of the lock is left on the server');
    });

    it('ends a wait with no deadline and no signal of its own with LOCKER_CLOSED, leaving nothing queued', async () => {
      const key = freshKey('shutdown-waiting');
      const leaving = await startLockerApp(fixture.config());
      // on memory the holder must share the leaving app's driver; elsewhere the server is shared
      const holder = await (driver === 'memory' ? leaving : app).service.acquire(key);
      const waiting = leaving.service.acquire(key).then(
        () => 'granted',
        (error: unknown) => error,
      );
      await sleep(100); // its wait has begun: shutdown has to end it, not only answer its caller
      await leaving.close();
      assert.equal(((await waiting) as { code?: string }).code, 'LOCKER_CLOSED');
      if (driver !== 'memory') {
        assert.deepEqual(
          await eventually(
            () => state(key),
            (s) => s.entries === 1 && s.subscriptions === 0,
          ),
          { entries: 1, subscriptions: 0 },
          'only the holder is left on the server',
        );
        assert.equal(holder.held, true);
        await holder.release();
      }
    });

    it('releases every held lock so another node takes over at once, and refuses new locks', async () => {
      const key = freshKey('shutdown');
      const leaving = await startLockerApp(fixture.config());
      const lock = await leaving.service.acquire(key);
      const waiter = driver === 'memory' ? undefined : app.service.acquire(key, { waitTime: 60_000 });
      await leaving.close();
      assert.ok(lock.signal.reason instanceof LockReleasedError);
      assert.equal(lock.held, false);
      if (waiter) {
        const taken = await waiter;
        assert.ok(taken.fencingToken > lock.fencingToken);
        await taken.release();
      }
      await assert.rejects(leaving.service.acquire(freshKey('after-close')), { code: 'LOCKER_CLOSED' });
    });
  });

  // memory lives in one process: no other node to exclude, no server to restart
  if (driver !== 'memory')
    serverOnlyTests(
      () => fixture,
      () => app,
      () => other,
    );
}

function serverOnlyTests(fixture: () => DriverFixture, app: () => LockerApp, other: () => LockerApp): void {
  describe('several OS processes', () => {
    it('exclude each other on one key: no overlapping critical sections, no lost update', async () => {
      const key = freshKey('hammer');
      const dir = mkdtempSync(join(tmpdir(), 'nest-locker-hammer-'));
      const counterFile = join(dir, 'counter');
      writeFileSync(counterFile, '0');
      try {
        const iterations = 15;
        const runs = await Promise.all(
          Array.from({ length: 4 }, () => runHammer({ config: fixture().config(), key, iterations, counterFile })),
        );
        const sections = runs.flat();
        assert.equal(sections.length, 4 * iterations);
        assert.deepEqual(overlaps(sections), []);
        assert.equal(Number(readFileSync(counterFile, 'utf8')), 4 * iterations, 'no update was lost');
        const byStart = [...sections].sort((a, b) => a.start - b.start).map((section) => BigInt(section.token));
        for (let i = 1; i < byStart.length; i++) assert.ok(byStart[i] > byStart[i - 1], 'tokens grow with time');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("frees a SIGKILLed holder's lock within its TTL", async () => {
      const key = freshKey('sigkill');
      const ttl = fixture().shortTtl;
      const { child, token } = await startHolder({ config: fixture().config(), key, ttl });
      assert.equal(await app().service.tryAcquire(key), null);
      child.kill('SIGKILL');
      const killedAt = performance.now();
      const next = await app().service.acquire(key, { waitTime: ttl * 3 });
      const freedAfter = performance.now() - killedAt;
      assert.ok(next.fencingToken > token);
      assert.ok(freedAfter <= ttl * 3, `took ${freedAfter} ms`);
      await next.release();
    });
  });

  describe('server restarts', () => {
    it("the holder's signal aborts with LockLostError, and tokens keep growing afterwards", async () => {
      const key = freshKey('restart');
      const ttl = fixture().shortTtl;
      const lock = await app().service.acquire(key, { ttl });
      // redis loses everything on restart; etcd keeps its data, so it must stay away past the TTL.
      await fixture().server!.restart(fixture().driver === 'etcd' ? ttl + 500 : 0);
      const reason = await abortReason(lock.signal, ttl * 4);
      assert.ok(reason instanceof LockLostError, `aborted with ${String(reason)}`);
      assert.equal(lock.held, false);
      const next = await other().service.acquire(key, { waitTime: ttl * 4 });
      assert.ok(next.fencingToken > lock.fencingToken, `token ${next.fencingToken} after ${lock.fencingToken}`);
      await next.release();
    });
  });
}
