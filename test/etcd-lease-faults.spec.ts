import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LockLostError } from 'nest-locker';
import { useEtcdApp } from './helpers/etcd-app';
import { etcdMetrics } from './helpers/etcd-metrics';
import { abortReason } from './helpers/wait';

/** Keep-alive renews every ttl / 3 = 1 s: a holder is told within that, plus room for a busy machine. */
const TTL = 3_000;
const TOLD_WITHIN = TTL / 3 + 1_500;

/**
 * What an operator (or a pause) does to etcd behind a holder's back: the lease revoked, the key deleted.
 * The holder is told within a renewal period, and new locks are taken on a fresh lease at once.
 */
describe('etcd: leases and keys changed from outside', () => {
  const env = useEtcdApp();

  const entriesOf = (key: string) =>
    env.inspector
      .getAll()
      .prefix(`nest-locker/${encodeURIComponent(key)}/`)
      .exec();
  const leaseOf = async (key: string): Promise<string> => (await entriesOf(key)).kvs[0].lease;
  const txnCount = async () => (await etcdMetrics(env.etcd.server!.port)).sum('grpc_server_handled_total', 'grpc_method="Txn"');

  it('takes a fresh lease after the shared one was revoked: acquire() of another key succeeds with a handful of requests', async (t) => {
    const held = await env.app.service.acquire('revoked-held');
    await env.inspector.leaseClient.leaseRevoke({ ID: await leaseOf('revoked-held') });
    const before = await txnCount();
    const lock = await env.app.service.acquire('revoked-other', { waitTime: 1_500 });
    const txns = (await txnCount()) - before;
    t.diagnostic(`${txns} Txn requests`);
    assert.ok(lock.held);
    assert.ok(txns <= 10, `${txns} Txn requests to take the lock`);
    await lock.release();
    await held.release();
  });

  it('tells the holder whose key was deleted from outside, within a renewal period, and only that holder', async () => {
    const holder = await env.app.service.acquire('deleted-key', { ttl: TTL });
    const bystander = await env.app.service.acquire('deleted-bystander', { ttl: TTL });
    await env.inspector.delete().prefix('nest-locker/deleted-key/');
    const reason = await abortReason(holder.signal, TOLD_WITHIN);
    assert.ok(reason instanceof LockLostError, String(reason));
    assert.equal(holder.held, false);
    assert.equal(bystander.held, true, 'a lock on the same lease whose key is there stays held');
    const next = await env.app.service.tryAcquire('deleted-key', { ttl: TTL });
    assert.ok(next, 'the key is free for the next holder');
    await next.release();
    await bystander.release();
  });

  it('tells every holder on a lease revoked from outside within a renewal period', async () => {
    const first = await env.app.service.acquire('revoked-a', { ttl: TTL });
    const second = await env.app.service.acquire('revoked-b', { ttl: TTL });
    assert.equal(await leaseOf('revoked-a'), await leaseOf('revoked-b'), 'one lease per TTL');
    await env.inspector.leaseClient.leaseRevoke({ ID: await leaseOf('revoked-a') });
    for (const lock of [first, second]) {
      const reason = await abortReason(lock.signal, TOLD_WITHIN);
      assert.ok(reason instanceof LockLostError, String(reason));
      assert.equal(lock.held, false);
    }
    const next = await env.app.service.acquire('revoked-a', { ttl: TTL, waitTime: 1_000 });
    assert.ok(next.held, 'taken again on a fresh lease');
    await next.release();
  });
});
