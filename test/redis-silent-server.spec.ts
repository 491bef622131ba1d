import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { LockerUnavailableError, LockLostError } from 'nest-locker';
import { DriverFixture, redisFixture } from './conformance/driver-fixtures';
import { FaultProxy } from './harness/fault-proxy';
import { lockerConfig } from './faults/environments';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { abortReason, eventually } from './helpers/wait';
import { settleWithin } from '../lib/utils/settle-within';

const COMMAND_TIMEOUT = 1000;
/** Beyond its deadline, what a call may take on a busy 2-core machine (timers late, a reconnect). */
const SLACK_MS = 1500;
/** A fair waiter renews its place every third of FAIR_PLACE_MS (2 s): its next call may be that far off. */
const FAIR_RENEWAL_MS = 667;

/**
 * A redis server that stops answering (the connection stays open, nothing gets through: the fault proxy's
 * `cut`): every call that does not wait settles by `command_timeout` with LockerUnavailableError, a waiting
 * acquire rides the silence out, the holder is told, and once the server answers again nothing of ours is
 * left on it.
 */
describe('redis: every call settles while the server is silent', () => {
  let fixture: DriverFixture;
  let proxy: FaultProxy;
  let app: LockerApp;
  /** A second node on its own connection, which the cut does not reach. */
  let other: LockerApp;
  const proxiedConfig = () => lockerConfig('redis', { addr: proxy.addr, command_timeout: COMMAND_TIMEOUT });

  before(async () => {
    fixture = await redisFixture();
    proxy = await FaultProxy.start(fixture.server!.port);
    app = await startLockerApp(proxiedConfig());
    other = await startLockerApp(lockerConfig('redis', { addr: fixture.server!.addr }));
    await (await app.service.acquire('warm-up')).release();
  });
  after(async () => {
    proxy?.set({ kind: 'pass' });
    await app?.close();
    await other?.close();
    await proxy?.close();
    await fixture?.close();
  });

  /** Runs `work` while the server is silent; heals the cut after `withinMs` and reports whether it had settled. */
  async function whileSilent<T>(work: () => Promise<T>, withinMs = COMMAND_TIMEOUT + SLACK_MS) {
    proxy.set({ kind: 'cut' });
    const running = work();
    const settled = await settleWithin(running, withinMs);
    const stillCut = proxy.connectionCount > 0;
    proxy.set({ kind: 'pass' });
    const [outcome] = await Promise.allSettled([running]);
    assert.ok(stillCut, 'the connection stayed open: the server was silent, not gone');
    return { settled, outcome };
  }

  /** Once the server answers again: neither a lock nor a queued place of `key`, and no lock held by the app. */
  async function nothingLeft(key: string): Promise<void> {
    const state = await eventually(
      () => fixture.state(key, app.driver('redis')),
      (value) => value.entries === 0,
      10_000,
    );
    assert.equal(state.entries, 0, `nothing of "${key}" left on the server`);
    assert.equal(app.driver('redis').heldLocks().length, 0);
  }

  it('tryAcquire() rejects by command_timeout, and a grant the server makes late is given back', async () => {
    const { settled, outcome } = await whileSilent(() => app.service.tryAcquire('silent-try'));
    assert.ok(settled, `tryAcquire() settled within ${COMMAND_TIMEOUT + SLACK_MS} ms`);
    assert.equal(outcome.status, 'rejected');
    assert.ok(outcome.reason instanceof LockerUnavailableError, String(outcome.reason));
    await nothingLeft('silent-try');
  });

  it('acquire() without waitTime waits through the silence and takes the lock once the server answers', async () => {
    // silent for longer than a call's deadline: the wait's first ask fails, and it asks again
    const { settled, outcome } = await whileSilent(() => app.service.acquire('silent-acquire'), COMMAND_TIMEOUT + SLACK_MS);
    assert.equal(settled, false, 'still waiting while the server was silent');
    assert.equal(outcome.status, 'fulfilled', String((outcome as PromiseRejectedResult).reason));
    assert.ok(outcome.value.held);
    await outcome.value.release();
    await nothingLeft('silent-acquire');
  });

  it('a queued waiter keeps waiting through the silence and gets the lock when the holder releases', async () => {
    const key = 'silent-queued';
    const holder = await other.service.acquire(key, { ttl: 30_000 });
    const waiting = app.service.acquire(key, { waitTime: 60_000 });
    waiting.catch(() => undefined);
    const queued = await eventually(
      () => fixture.state(key, app.driver('redis')),
      (state) => state.entries === 2,
      10_000,
    );
    assert.equal(queued.entries, 2, 'held, and the waiter queued');
    proxy.set({ kind: 'cut' });
    const settledWhileCut = await settleWithin(waiting, FAIR_RENEWAL_MS + COMMAND_TIMEOUT + SLACK_MS);
    proxy.set({ kind: 'pass' });
    assert.equal(settledWhileCut, false, 'the waiter did not give up on the silence');
    await holder.release();
    const lock = await waiting;
    assert.ok(lock.held && lock.fencingToken > holder.fencingToken);
    await lock.release();
    await nothingLeft(key);
  });

  it('extend() rejects by its deadline, and the holder is told the connection was lost', async () => {
    const lock = await app.service.tryAcquire('silent-extend', { ttl: 30_000 });
    assert.ok(lock);
    const { settled, outcome } = await whileSilent(() => lock.extend(30_000));
    assert.ok(settled, `extend() settled within ${COMMAND_TIMEOUT + SLACK_MS} ms`);
    assert.equal(outcome.status, 'rejected');
    assert.ok(outcome.reason instanceof LockerUnavailableError, String(outcome.reason));
    assert.equal(lock.held, false);
    assert.equal((lock.signal.reason as LockLostError).reason, 'disconnected');
    await nothingLeft('silent-extend');
  });

  it('release() rejects by command_timeout with LockerUnavailableError, and the key is freed once the server answers', async () => {
    const lock = await app.service.tryAcquire('silent-release', { ttl: 30_000 });
    assert.ok(lock);
    const { settled, outcome } = await whileSilent(() => lock.release());
    assert.ok(settled, `release() settled within ${COMMAND_TIMEOUT + SLACK_MS} ms`);
    assert.equal(outcome.status, 'rejected', 'the caller learns the release did not reach the server');
    assert.ok(outcome.reason instanceof LockerUnavailableError, String(outcome.reason));
    assert.equal(lock.held, false, 'keep-alive stopped at once: the lock ends with its lease');
    await nothingLeft('silent-release');
  });

  it('an unanswered renewal is a lost connection: the holder is told before its lease deadline, the lock freed later', async () => {
    const ttl = 3000;
    const lock = await app.service.tryAcquire('silent-renewal', { ttl });
    assert.ok(lock);
    const { settled, outcome } = await whileSilent(() => abortReason(lock.signal, ttl), ttl);
    assert.ok(settled && outcome.status === 'fulfilled', 'told within the TTL');
    const reason = outcome.value;
    assert.ok(reason instanceof LockLostError);
    // a renewal goes out ttl / 3 after the last one and waits ttl / 3 for its answer: 'deadline' would mean it waited longer
    assert.equal(reason.reason, 'disconnected', reason.message);
    await nothingLeft('silent-renewal');
  });

  it('shutdown (the driver closing its connections) settles by command_timeout', async () => {
    const closing = await startLockerApp(proxiedConfig());
    // a wait opens the release subscriber, so both connections are silent at close
    const holder = await closing.service.acquire('silent-close');
    const waiter = closing.service.acquire('silent-close', { waitTime: 10_000 });
    await holder.release();
    await (await waiter).release();
    const { settled } = await whileSilent(() => closing.close());
    assert.ok(settled, `app.close() settled within ${COMMAND_TIMEOUT + SLACK_MS} ms`);
  });
});
