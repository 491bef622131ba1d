import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import { Lock, LockerUnavailableError, LockEvent } from 'nest-locker';
import { settleWithin } from '../lib/utils/settle-within';
import { useEtcdApp } from './helpers/etcd-app';
import { eventually } from './helpers/wait';

const COMMAND_TIMEOUT = 1_500;
/** What a call may take on a silent server: its deadline, and room for a busy machine. */
const CALL_BOUND = COMMAND_TIMEOUT + 1_500;

/**
 * An etcd that accepts the connection and never answers (the fault proxy holds every byte): every call
 * has a deadline (`command_timeout`), so nothing a user calls hangs (a call that does not wait rejects with
 * LockerUnavailableError, a waiting acquire rides the silence out), renewals keep being tried, and what was
 * taken or released meanwhile is settled on the server once it answers again.
 */
describe('etcd: a server that stops answering', () => {
  const env = useEtcdApp({ proxied: true, connection: { command_timeout: COMMAND_TIMEOUT } });
  before(async () => await (await env.app.service.acquire('warm-up')).release());

  it('answers tryAcquire, extend, release and renewals within the deadline, waits through it in acquire, and leaves nothing behind', async () => {
    const held = await env.app.service.acquire('silent-held', { ttl: 6_000 });
    const renewed = await env.app.service.acquire('silent-renewed', { ttl: 9_000 });
    const failedRenewals: LockEvent[] = [];
    const subscription = env.app.service.events.subscribe((event) => {
      if (event.type === 'renewal-failed' && event.key === 'silent-renewed') failedRenewals.push(event);
    });
    env.proxy.set({ kind: 'cut' });
    let waiting: Promise<Lock> | undefined;
    try {
      waiting = env.app.service.acquire('silent-other', { ttl: 5_000 });
      waiting.catch(() => undefined);
      const calls: [string, Promise<unknown>][] = [
        ['tryAcquire', env.app.service.tryAcquire('silent-free', { ttl: 4_000 })],
        ['extend', held.extend(6_000)],
        ['release', held.release()],
      ];
      // each call's outcome is taken at once: they reject at about the same time, and one left unobserved
      // meanwhile would be an unhandled rejection (which fails the test, and lets the next one start mid-cut)
      const outcomes = await Promise.all(
        calls.map(async ([name, call]) => [name, await settleWithin(call, CALL_BOUND), (await Promise.allSettled([call]))[0]] as const),
      );
      for (const [name, inTime, outcome] of outcomes) {
        assert.ok(inTime, `${name}() settled within ${CALL_BOUND} ms on a silent server`);
        assert.equal(outcome.status, 'rejected', `${name}() rejected`);
        assert.ok(outcome.reason instanceof LockerUnavailableError, `${name}(): ${String(outcome.reason)}`);
      }
      assert.equal(await settleWithin(waiting, 0), false, 'acquire() still waits: the server may come back');
      // keep-alive runs every ttl/3 = 3 s: each unanswered one is given up at its deadline and tried again
      const seen = await eventually(
        async () => failedRenewals.length,
        (count) => count >= 2,
        3_000 + 2 * CALL_BOUND,
      );
      assert.ok(seen >= 2, `renewals kept being tried and reported (${seen} failed)`);
    } finally {
      subscription.unsubscribe();
      env.proxy.set({ kind: 'pass' });
    }
    const taken = await waiting;
    assert.ok(taken.held, 'the waiting acquire took the lock once etcd answered');
    await Promise.allSettled([renewed.release(), taken.release()]);
    for (const key of ['silent-held', 'silent-free', 'silent-other', 'silent-renewed']) {
      const state = await eventually(
        () => env.etcd.state(key, env.app.driver('etcd')),
        (value) => value.entries === 0,
        10_000,
      );
      assert.equal(state.entries, 0, `nothing of "${key}" is left in etcd once it answers`);
    }
    const next: Lock | null = await env.app.service.tryAcquire('silent-held');
    assert.ok(next, 'the released key is free');
    await next.release();
  });

  it('leaves no entry behind when etcd wrote it but its answer never came', async () => {
    await (await env.app.service.acquire('answer-lost', { ttl: 6_000 })).release(); // the lease of this TTL exists
    env.proxy.set({ kind: 'hold-answers' });
    const error = await env.app.service.tryAcquire('answer-lost', { ttl: 6_000 }).catch((caught: unknown) => caught);
    const written = await env.etcd.state('answer-lost', env.app.driver('etcd'));
    env.proxy.set({ kind: 'pass' });
    assert.ok(error instanceof Error, `tryAcquire() failed at its deadline (${String(error)})`);
    assert.equal(written.entries, 1, 'etcd had written the entry');
    const state = await eventually(
      () => env.etcd.state('answer-lost', env.app.driver('etcd')),
      (value) => value.entries === 0,
      10_000,
    );
    assert.equal(state.entries, 0, 'the unanswered entry is deleted, not left queued on a kept-alive lease');
    const lock = await env.app.service.tryAcquire('answer-lost', { ttl: 6_000 });
    assert.ok(lock, 'free for the next caller');
    await lock.release();
  });

  it('closes the driver within a bound on a silent server', async () => {
    await env.app.service.acquire('silent-close', { ttl: 10_000 });
    env.proxy.set({ kind: 'cut' });
    const started = Date.now();
    const closed = await settleWithin(env.app.driver('etcd').close(), 2_000 + CALL_BOUND);
    assert.ok(closed, `close() settled (after ${Date.now() - started} ms)`);
  });
});
