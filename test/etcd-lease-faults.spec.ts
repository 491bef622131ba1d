import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { LockLostError } from 'nest-locker';
import { DriverFixture, etcdFixture } from './conformance/driver-fixtures';
import { lockerConfig } from './faults/environments';
import { etcdMetrics } from './helpers/etcd-metrics';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { abortReason } from './helpers/wait';

/** Keep-alive renews every ttl / 3 = 1 s: a holder is told within that, plus room for a busy machine. */
const TTL = 3_000;
const TOLD_WITHIN = TTL / 3 + 1_500;

/**
 * What an operator (or a pause) does to etcd behind a holder's back: the lease revoked, the key deleted.
 * The holder is told within a renewal period, and new locks are taken on a fresh lease at once.
 */
describe('etcd: leases and keys changed from outside', () => {
  let fixture: DriverFixture;
  let app: LockerApp;
  let inspector: Etcd3;
  before(async () => {
    fixture = await etcdFixture();
    inspector = new Etcd3({ hosts: `http://${fixture.server!.addr}` });
    app = await startLockerApp(lockerConfig('etcd', { endpoints: [fixture.server!.addr] }));
  });
  after(async () => {
    await app?.close();
    inspector?.close();
    await fixture?.close();
  });

  const entriesOf = (key: string) =>
    inspector
      .getAll()
      .prefix(`nest-locker/${encodeURIComponent(key)}/`)
      .exec();
  const leaseOf = async (key: string): Promise<string> => (await entriesOf(key)).kvs[0].lease;
  const txnCount = async () => (await etcdMetrics(fixture.server!.port)).sum('grpc_server_handled_total', 'grpc_method="Txn"');

  it('takes a fresh lease after the shared one was revoked: acquire() of another key succeeds with a handful of requests', async (t) => {
    const held = await app.service.acquire('revoked-held');
    await inspector.leaseClient.leaseRevoke({ ID: await leaseOf('revoked-held') });
    const before = await txnCount();
    const lock = await app.service.acquire('revoked-other', { waitTime: 1_500 });
    const txns = (await txnCount()) - before;
    t.diagnostic(`${txns} Txn requests`);
    assert.ok(lock.held);
    assert.ok(txns <= 10, `${txns} Txn requests to take the lock`);
    await lock.release();
    await held.release();
  });

  it('tells the holder whose key was deleted from outside, within a renewal period, and only that holder', async () => {
    const holder = await app.service.acquire('deleted-key', { ttl: TTL });
    const bystander = await app.service.acquire('deleted-bystander', { ttl: TTL });
    await inspector.delete().prefix('nest-locker/deleted-key/');
    const reason = await abortReason(holder.signal, TOLD_WITHIN);
    assert.ok(reason instanceof LockLostError, String(reason));
    assert.equal(holder.held, false);
    assert.equal(bystander.held, true, 'a lock on the same lease whose key is there stays held');
    const next = await app.service.tryAcquire('deleted-key', { ttl: TTL });
    assert.ok(next, 'the key is free for the next holder');
    await next.release();
    await bystander.release();
  });

  it('tells every holder on a lease revoked from outside within a renewal period', async () => {
    const first = await app.service.acquire('revoked-a', { ttl: TTL });
    const second = await app.service.acquire('revoked-b', { ttl: TTL });
    assert.equal(await leaseOf('revoked-a'), await leaseOf('revoked-b'), 'one lease per TTL');
    await inspector.leaseClient.leaseRevoke({ ID: await leaseOf('revoked-a') });
    for (const lock of [first, second]) {
      const reason = await abortReason(lock.signal, TOLD_WITHIN);
      assert.ok(reason instanceof LockLostError, String(reason));
      assert.equal(lock.held, false);
    }
    const next = await app.service.acquire('revoked-a', { ttl: TTL, waitTime: 1_000 });
    assert.ok(next.held, 'taken again on a fresh lease');
    await next.release();
  });
});
