import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MUTEX } from '../acquisition/lock-kind';
import { PendingAcquisition } from './pending-acquisition';
import { WaitScope } from './wait-scope';

const pending = (signal?: AbortSignal) =>
  new PendingAcquisition('k', 'locker', '', MUTEX, { ttl: 1000, keepAlive: true, fair: false, locker: 'locker', signal }, true, undefined);
/** The signal made so far, without making it. */
const made = (request: PendingAcquisition) => (request as unknown as { madeSignal?: AbortSignal }).madeSignal;

describe('PendingAcquisition', () => {
  it('makes no signal for an attempt that does not wait', () => {
    const request = pending();
    new WaitScope(request).check();
    assert.equal(request.aborted, false);
    assert.equal(made(request), undefined);
  });

  it('shutdown ends a wait that is sleeping, and answers its caller', async () => {
    const request = pending();
    const answered: unknown[] = [];
    request.onAbort = (reason) => answered.push(reason);
    const sleeping = new WaitScope(request).sleep(60_000);
    const reason = new Error('closing');
    request.abort(reason);
    await assert.rejects(sleeping, (error) => error === reason);
    assert.deepEqual(answered, [reason]);
  });

  it('a wait that begins after shutdown aborted it ends at once', async () => {
    const request = pending();
    const reason = new Error('closing');
    request.abort(reason);
    assert.throws(
      () => new WaitScope(request).check(),
      (error) => error === reason,
    );
    assert.equal(request.signal.aborted, true);
    assert.equal(request.signal.reason, reason);
  });

  it("follows the caller's signal through a signal of its own, without a listener on the caller's", async () => {
    const caller = new AbortController();
    const requests = Array.from({ length: 20 }, () => pending(caller.signal));
    const sleeping = requests.map((request) => new WaitScope(request).sleep(60_000));
    assert.ok(requests.every((request) => request.signal !== caller.signal));
    const reason = new Error('caller gave up');
    caller.abort(reason);
    for (const wait of sleeping) await assert.rejects(wait, (error) => error === reason);
    assert.ok(requests.every((request) => request.aborted && request.reason === reason));
  });
});
