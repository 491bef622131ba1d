import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import type { Lock, LockEvent } from 'nest-locker';
import { settleWithin } from '../lib/utils/settle-within';
import { DriverFixture, etcdFixture } from './conformance/driver-fixtures';
import { FaultProxy } from './harness/fault-proxy';
import { lockerConfig } from './faults/environments';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

const COMMAND_TIMEOUT = 500;
/** What a call may take on a silent server: its deadline, and room for a busy machine. */
const CALL_BOUND = COMMAND_TIMEOUT + 1_500;

/**
 * An etcd that accepts the connection and never answers (the fault proxy holds every byte): every call
 * has a deadline (`command_timeout`), so nothing a user calls hangs, renewals keep being tried, and what
 * was taken or released meanwhile is settled on the server once it answers again.
 */
describe('etcd: a server that stops answering', () => {
  let fixture: DriverFixture;
  let proxy: FaultProxy;
  let app: LockerApp;
  let inspector: Etcd3;
  before(async () => {
    fixture = await etcdFixture();
    inspector = new Etcd3({ hosts: `http://${fixture.server!.addr}` });
    proxy = await FaultProxy.start(fixture.server!.port);
    app = await startLockerApp(lockerConfig('etcd', { endpoints: [proxy.addr], command_timeout: COMMAND_TIMEOUT }));
    await (await app.service.acquire('warm-up')).release();
  });
  after(async () => {
    proxy.set({ kind: 'pass' });
    await app?.close();
    inspector?.close();
    await proxy?.close();
    await fixture?.close();
  });

  it('answers tryAcquire, acquire, extend, release and renewals within the deadline, and leaves nothing behind', async () => {
    const held = await app.service.acquire('silent-held', { ttl: 6_000 });
    const renewed = await app.service.acquire('silent-renewed', { ttl: 3_000 });
    const failedRenewals: LockEvent[] = [];
    const subscription = app.service.events.subscribe((event) => {
      if (event.type === 'renewal-failed' && event.key === 'silent-renewed') failedRenewals.push(event);
    });
    proxy.set({ kind: 'cut' });
    try {
      const calls: [string, Promise<unknown>][] = [
        ['tryAcquire', app.service.tryAcquire('silent-free', { ttl: 4_000 })],
        ['acquire', app.service.acquire('silent-other', { ttl: 5_000 })],
        ['extend', held.extend(6_000)],
      ];
      for (const [name, call] of calls) {
        assert.ok(await settleWithin(call, CALL_BOUND), `${name}() settled within ${CALL_BOUND} ms on a silent server`);
      }
      assert.ok(await settleWithin(held.release(), CALL_BOUND), 'release() settled');
      // keep-alive runs every ttl/3 = 1 s: each unanswered one is given up at its deadline and tried again
      const seen = await eventually(
        async () => failedRenewals.length,
        (count) => count >= 2,
        3_000 + 2 * CALL_BOUND,
      );
      assert.ok(seen >= 2, `renewals kept being tried and reported (${seen} failed)`);
    } finally {
      subscription.unsubscribe();
      proxy.set({ kind: 'pass' });
    }
    await Promise.allSettled([renewed.release()]);
    for (const key of ['silent-held', 'silent-free', 'silent-other', 'silent-renewed']) {
      const state = await eventually(
        () => fixture.state(key, app.driver('etcd')),
        (value) => value.entries === 0,
        10_000,
      );
      assert.equal(state.entries, 0, `nothing of "${key}" is left in etcd once it answers`);
    }
    const next: Lock | null = await app.service.tryAcquire('silent-held');
    assert.ok(next, 'the released key is free');
    await next.release();
  });

  it('leaves no entry behind when etcd wrote it but its answer never came', async () => {
    await (await app.service.acquire('answer-lost', { ttl: 6_000 })).release(); // the lease of this TTL exists
    proxy.set({ kind: 'hold-answers' });
    const error = await app.service.tryAcquire('answer-lost', { ttl: 6_000 }).catch((caught: unknown) => caught);
    const written = await fixture.state('answer-lost', app.driver('etcd'));
    proxy.set({ kind: 'pass' });
    assert.ok(error instanceof Error, `tryAcquire() failed at its deadline (${String(error)})`);
    assert.equal(written.entries, 1, 'etcd had written the entry');
    const state = await eventually(
      () => fixture.state('answer-lost', app.driver('etcd')),
      (value) => value.entries === 0,
      10_000,
    );
    assert.equal(state.entries, 0, 'the unanswered entry is deleted, not left queued on a kept-alive lease');
    const lock = await app.service.tryAcquire('answer-lost', { ttl: 6_000 });
    assert.ok(lock, 'free for the next caller');
    await lock.release();
  });

  it('closes the driver within a bound on a silent server', async () => {
    await app.service.acquire('silent-close', { ttl: 10_000 });
    proxy.set({ kind: 'cut' });
    const started = Date.now();
    const closed = await settleWithin(app.driver('etcd').close(), 2_000 + CALL_BOUND);
    assert.ok(closed, `close() settled (after ${Date.now() - started} ms)`);
  });
});
