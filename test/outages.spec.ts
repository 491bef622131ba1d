import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Lock, LockerUnavailableError, LockWaitTimeoutError } from 'nest-locker';
import { settleWithin } from '../lib/utils/settle-within';
import { DriverFixture, etcdFixture, redisFixture } from './conformance/driver-fixtures';
import { lockerConfig } from './faults/environments';
import { FaultProxy } from './harness/fault-proxy';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

const COMMAND_TIMEOUT = 1_000;
/** Beyond a call's deadline, what it may take on a busy 2-core machine (timers late, a reconnect). */
const SLACK_MS = 1_500;
/** How long an outage lasts here: longer than a call's deadline, so a waiting acquire's ask fails in it. */
const OUTAGE_MS = COMMAND_TIMEOUT + 500;
/** A queued redis waiter asks again every third of its 2 s place: an outage that outlasts one ask and its deadline. */
const QUEUED_OUTAGE_MS = 667 + COMMAND_TIMEOUT + 800;

/**
 * DESIGN §3.8 on both server drivers: a server that cannot be reached or does not answer is an error of
 * ours, `LockerUnavailableError` (code, section, driver, the client's error as cause), for every call that
 * does not wait; a waiting acquire rides an outage out until its waitTime, and at its deadline says which it
 * was: unavailable, or busy.
 */
for (const [driver, makeFixture] of [
  ['redis', redisFixture],
  ['etcd', etcdFixture],
] as const) {
  describe(`${driver}: an outage`, () => {
    let fixture: DriverFixture;
    let proxy: FaultProxy;
    /** One node, through the proxy. */
    let app: LockerApp;
    /** Another node, straight to the server: the outage is between the first one and the server. */
    let other: LockerApp;
    let keys = 0;
    const freshKey = (name: string) => `${name}-${++keys}`;
    const connection = (addr: string) =>
      driver === 'redis' ? { addr, command_timeout: COMMAND_TIMEOUT } : { endpoints: [addr], command_timeout: COMMAND_TIMEOUT };

    before(async () => {
      fixture = await makeFixture();
      proxy = await FaultProxy.start(fixture.server!.port);
      app = await startLockerApp(lockerConfig(driver, connection(proxy.addr)));
      other = await startLockerApp(lockerConfig(driver, connection(fixture.server!.addr)));
      await (await app.service.acquire('warm-up')).release(); // connected, streams open
    });
    after(async () => {
      proxy?.set({ kind: 'pass' });
      await app?.close();
      await other?.close();
      await proxy?.close();
      await fixture?.close();
    });

    /** The error is ours, names the section and driver, and carries the client's error. */
    const assertUnavailable = (error: unknown, what: string) => {
      assert.ok(error instanceof LockerUnavailableError, `${what}: ${String(error)}`);
      assert.equal(error.code, 'LOCKER_UNAVAILABLE');
      assert.equal(error.section, 'locker');
      assert.equal(error.driver, driver);
      assert.ok(error.cause !== undefined, `${what}: the client's error is the cause`);
      assert.doesNotMatch(error.message, /maxRetriesPerRequest/, 'no word of a client option the user never set');
    };

    it('every call that does not wait rejects with LockerUnavailableError by command_timeout', async () => {
      const held = await app.service.acquire(freshKey('held'), { ttl: 30_000 });
      const released = await app.service.acquire(freshKey('released'), { ttl: 30_000 });
      const free = freshKey('free');
      proxy.set({ kind: 'cut' });
      try {
        const calls: [string, Promise<unknown>][] = [
          ['tryAcquire()', app.service.tryAcquire(free)],
          ['extend()', held.extend(30_000)],
          ['release()', released.release()],
          ['inspect()', app.service.inspect(free)],
          ['forceRelease()', app.service.forceRelease(free)],
        ];
        // each outcome taken at once: they reject at about the same time
        const outcomes = await Promise.all(
          calls.map(
            async ([what, call]) =>
              [what, await settleWithin(call, COMMAND_TIMEOUT + SLACK_MS), await call.catch((e: unknown) => e)] as const,
          ),
        );
        for (const [what, inTime, error] of outcomes) {
          assert.ok(inTime, `${what} settled within ${COMMAND_TIMEOUT + SLACK_MS} ms`);
          assertUnavailable(error, what);
        }
        assert.equal(released.held, false, 'a release that got no answer stopped keep-alive: the lock ends with its lease');
      } finally {
        proxy.set({ kind: 'pass' });
      }
      await held.release().catch(() => undefined); // lost with the connection on redis, still ours on etcd
    });

    it('a waiting acquire rides out a silent server and takes the lock when it answers again', async () => {
      const key = freshKey('rides-silence');
      proxy.set({ kind: 'cut' });
      const waiting = app.service.acquire(key, { waitTime: 20_000 });
      waiting.catch(() => undefined);
      const settledInOutage = await settleWithin(waiting, OUTAGE_MS);
      proxy.set({ kind: 'pass' });
      assert.equal(settledInOutage, false, 'it did not give up at the first unanswered call');
      const lock = await waiting;
      assert.ok(lock.held);
      await lock.release();
    });

    it('a waiting acquire rides out a restart (refused connections) and takes the lock when the server is back', async () => {
      const key = freshKey('rides-restart');
      const restarting = fixture.server!.restart(OUTAGE_MS);
      const waiting = app.service.acquire(key, { waitTime: 20_000 });
      waiting.catch(() => undefined);
      await restarting;
      const lock = await waiting;
      assert.ok(lock.held);
      await lock.release();
      // the other node's connection went through the restart too: it must be back before the next test
      await eventually(
        () =>
          other.service.tryAcquire(freshKey('probe')).then(
            (probe) => probe?.release().then(() => true) ?? false,
            () => false,
          ),
        (back) => back,
        10_000,
      );
    });

    it('a queued waiter keeps its wait through an outage and gets the lock when the holder releases', async () => {
      const key = freshKey('queued');
      const holder = await other.service.acquire(key, { ttl: 30_000 });
      const waiting = app.service.acquire(key, { waitTime: 30_000 });
      waiting.catch(() => undefined);
      await eventually(
        () => fixture.state(key, app.driver(driver)),
        (state) => state.entries === 2,
        10_000,
      );
      proxy.set({ kind: 'cut' });
      const settledInOutage = await settleWithin(waiting, QUEUED_OUTAGE_MS);
      proxy.set({ kind: 'pass' });
      assert.equal(settledInOutage, false, 'the waiter did not give up on the outage');
      await holder.release();
      const lock: Lock = await waiting;
      assert.ok(lock.held && lock.fencingToken > holder.fencingToken);
      await lock.release();
    });

    it('a wait that meets only silence ends at its waitTime with LockerUnavailableError, not LockWaitTimeoutError', async () => {
      proxy.set({ kind: 'cut' });
      try {
        const error = await app.service.acquire(freshKey('silence-only'), { waitTime: 2_500 }).catch((caught: unknown) => caught);
        assertUnavailable(error, 'acquire({ waitTime })');
      } finally {
        proxy.set({ kind: 'pass' });
      }
    });

    it('a wait on a lock that stays busy, with the server answering, still ends with LockWaitTimeoutError', async () => {
      const key = freshKey('busy');
      const holder = await other.service.acquire(key);
      const error = await app.service.acquire(key, { waitTime: 500 }).catch((caught: unknown) => caught);
      assert.ok(error instanceof LockWaitTimeoutError, String(error));
      assert.match(error.message, /another holder still has it/);
      await holder.release();
    });
  });
}
