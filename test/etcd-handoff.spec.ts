import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Lock } from 'nest-locker';
import { lockerConfig } from './faults/environments';
import { useEtcdApp } from './helpers/etcd-app';
import { etcdMetrics } from './helpers/etcd-metrics';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

/**
 * A hot key across nodes on etcd. The queue is FIFO: a waiter owns the lock the moment the entries ahead of
 * its own are deleted, so a handoff costs the release's delete and one watch event, not a read after it; a
 * node that waits again soon keeps the watch it had. Whatever leaves the queue otherwise (a waiter ahead
 * giving up, the waiter's own entry deleted) must not hand the lock over early.
 */
describe('etcd: handing a lock over between nodes', () => {
  const env = useEtcdApp(); // the waiting node
  let holderApp: LockerApp;
  let thirdApp: LockerApp;
  before(async () => {
    const config = lockerConfig('etcd', { endpoints: [env.etcd.server!.addr] });
    [holderApp, thirdApp] = await Promise.all([startLockerApp(config), startLockerApp(config)]);
  });
  after(async () => {
    await holderApp?.close();
    await thirdApp?.close();
  });

  /** Messages etcd has received for a gRPC method (Txn: every lock request; Watch: each watch created or cancelled). */
  const received = async (method: string) =>
    (await etcdMetrics(env.etcd.server!.port)).sum('grpc_server_msg_received_total', `grpc_method="${method}"`);
  const entries = async (key: string) =>
    await env.inspector
      .getAll()
      .prefix(`nest-locker/${encodeURIComponent(key)}/`)
      .keys();
  /** Settles once `count` entries are queued for `key` on the server. */
  const queued = async (key: string, count: number) => {
    assert.equal(
      (
        await eventually(
          () => entries(key),
          (names) => names.length === count,
          5_000,
        )
      ).length,
      count,
      'queued',
    );
  };
  const waitFor = (app: LockerApp, key: string): Promise<Lock> => {
    const waiting = app.service.acquire(key, { waitTime: 10_000 });
    waiting.catch(() => undefined); // asserted where awaited; a failed test must not leave it unhandled
    return waiting;
  };

  it("a node that waits again keeps its watch, and takes the lock on its predecessor's delete with no request of its own", async (t) => {
    const key = 'handoff-requests';
    const firstHolder = await holderApp.service.acquire(key);
    const firstWait = waitFor(env.app, key);
    await queued(key, 2);
    const thirdWait = waitFor(thirdApp, key);
    await queued(key, 3);
    // both waiting nodes watch (the prefix, and a key keeping the watch stream open) before watch requests are counted
    const watchers = async () => (await etcdMetrics(env.etcd.server!.port)).sum('etcd_debugging_mvcc_watcher_total');
    assert.equal(await eventually(watchers, (count) => count === 4, 5_000), 4, 'two waiting nodes watch');
    await firstHolder.release();
    const mine = await firstWait;

    // at once, while its first wait's watch is still there: queue again, behind the third node
    const watchRequestsBefore = await received('Watch');
    const again = waitFor(env.app, key);
    await queued(key, 3);
    const txnsBefore = await received('Txn');
    await mine.release();
    const third = await thirdWait;
    await third.release();
    const next = await again;
    const txns = (await received('Txn')) - txnsBefore;
    const watchRequests = (await received('Watch')) - watchRequestsBefore;
    t.diagnostic(`two handoffs: ${txns} Txn; second wait: ${watchRequests} watch requests`);
    assert.ok(next.held);
    assert.ok(next.fencingToken > third.fencingToken && third.fencingToken > mine.fencingToken, 'the fencing token grows');
    assert.equal(watchRequests, 0, 'the second wait used the watch of the first');
    assert.equal(txns, 2, 'the two releases, and no read of the queue after their deletes');
    await next.release();
  });

  it('a waiter ahead giving up does not hand the lock over while it is held; its release does', async () => {
    const key = 'handoff-middle-leaves';
    const holder = await holderApp.service.acquire(key);
    const controller = new AbortController();
    const middle = thirdApp.service.acquire(key, { signal: controller.signal });
    middle.catch(() => undefined);
    await queued(key, 2);
    let taken = false;
    const last = waitFor(env.app, key).then((lock) => ((taken = true), lock));
    await queued(key, 3);
    controller.abort(new Error('gave up'));
    await assert.rejects(middle, /gave up/);
    await queued(key, 2);
    // the one ahead of the last waiter is gone, the holder is not: a look at the server proves it still waits
    assert.ok(await holderApp.service.inspect(key));
    assert.equal(taken, false, 'the last waiter does not hold the lock while the holder does');
    assert.equal(holder.held, true);
    await holder.release();
    const lock = await last;
    assert.ok(lock.held);
    await lock.release();
  });

  it('a waiter whose own entry is deleted from outside queues again behind the holder, and gets the lock on its release', async () => {
    const key = 'handoff-own-deleted';
    const holder = await holderApp.service.acquire(key);
    let taken = false;
    const waiting = waitFor(env.app, key).then((lock) => ((taken = true), lock));
    await queued(key, 2);
    const [held, mine] = await env.inspector.getAll().prefix(`nest-locker/${key}/`).sort('Create', 'Ascend').keys();
    await env.inspector.delete().key(mine);
    // it queues again: a new entry behind the holder's
    const again = await eventually(
      () => entries(key),
      (names) => names.length === 2 && !names.includes(mine),
      5_000,
    );
    assert.ok(again.includes(held) && !again.includes(mine), 'queued again under a new name');
    assert.equal(taken, false, 'the waiter does not hold the lock while the holder does');
    await holder.release();
    const lock = await waiting;
    assert.ok(lock.held);
    await lock.release();
  });
});
