import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { DriverFixture, etcdFixture } from './conformance/driver-fixtures';
import { FaultProxy } from './harness/fault-proxy';
import { lockerConfig } from './faults/environments';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { abortReason, eventually } from './helpers/wait';

const COMMAND_TIMEOUT = 300;
const TTL = 6_000;

/**
 * Every lock of one TTL in a process shares one etcd lease. A delete that etcd does not confirm (here a
 * waiter giving up while its connection is cut) is sent again; it must not retire the shared lease and so
 * lose every other lock on it.
 */
describe('etcd: a delete that fails once', () => {
  let fixture: DriverFixture;
  let proxy: FaultProxy;
  let app: LockerApp;
  before(async () => {
    fixture = await etcdFixture();
    proxy = await FaultProxy.start(fixture.server!.port);
    app = await startLockerApp(lockerConfig('etcd', { endpoints: [proxy.addr], command_timeout: COMMAND_TIMEOUT }));
  });
  after(async () => {
    proxy.set({ kind: 'pass' });
    await app?.close();
    await proxy?.close();
    await fixture?.close();
  });

  it('keeps the other locks on the shared lease, and the entry is deleted once etcd answers', async () => {
    const driver = app.driver('etcd');
    const holder = await app.service.acquire('failed-delete', { ttl: TTL });
    const bystander = await app.service.acquire('failed-delete-bystander', { ttl: TTL });
    const giveUp = new AbortController();
    const waiting = app.service.acquire('failed-delete', { ttl: TTL, signal: giveUp.signal }).catch((error: unknown) => error);
    const queued = await eventually(
      () => fixture.state('failed-delete', driver),
      (state) => state.entries === 2,
    );
    assert.equal(queued.entries, 2, "the waiter's entry is queued behind the holder");

    const hit = proxy.faultNextRequest('cut');
    giveUp.abort(new Error('gave up'));
    await waiting;
    await hit;
    // the waiter's delete runs out of its deadline while cut; the old driver then retired the shared lease
    await abortReason(bystander.signal, COMMAND_TIMEOUT * 3).catch(() => undefined);
    proxy.set({ kind: 'pass' });

    assert.equal(holder.held, true, 'the holder keeps its lock');
    assert.equal(bystander.held, true, 'a lock of another key on the same lease is kept');
    const left = await eventually(
      () => fixture.state('failed-delete', driver),
      (state) => state.entries === 1,
      10_000,
    );
    assert.equal(left.entries, 1, "the waiter's entry is deleted once etcd answers; the holder's stays");
    assert.equal(holder.held && bystander.held, true);
    await holder.release();
    await bystander.release();
  });
});
