import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { lockerConfig } from './faults/environments';
import { useEtcdApp } from './helpers/etcd-app';
import { etcdMetrics } from './helpers/etcd-metrics';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

/**
 * A waiter's watch stream that comes back after etcd compacted past the revision it had seen: etcd cancels
 * the watch, and the waiter must watch again (from the current revision), not fall back to a slow poll.
 */
describe('etcd: a waiter whose watch revision was compacted while its connection was away', () => {
  const env = useEtcdApp({ proxied: true }); // the waiter's app
  let holderApp: LockerApp;
  before(async () => (holderApp = await startLockerApp(lockerConfig('etcd', { endpoints: [env.etcd.server!.addr] }))));
  after(async () => await holderApp?.close());

  const metrics = () => etcdMetrics(env.etcd.server!.port);
  const watchers = async () => (await metrics()).sum('etcd_debugging_mvcc_watcher_total');
  /** Requests on watch streams: each watch created or cancelled is one. */
  const watchRequests = async () => (await metrics()).sum('grpc_server_msg_received_total', 'grpc_method="Watch"');

  it('watches again and gets the lock on the release, not at a poll', async (t) => {
    const lock = await holderApp.service.acquire('compacted', { ttl: 10_000 });
    const waiting = env.app.service.acquire('compacted', { ttl: 10_000 });
    waiting.catch(() => undefined); // asserted below; a failed test must not leave it unhandled
    // the waiter's entry is queued and its watches (the lock's prefix, and the one keeping the stream open) exist
    const watching = await eventually(watchers, (count) => count === 2, 5_000);
    assert.equal(watching, 2);

    env.proxy.set({ kind: 'cut' });
    env.proxy.resetAll(); // the waiter's connection is gone; it reconnects into the cut
    const away = await eventually(watchers, (count) => count === 0, 5_000);
    assert.equal(away, 0, 'the waiter watches nothing while away');
    const requestsBefore = await watchRequests();
    let revision = '0';
    for (let i = 0; i < 5; i++) revision = (await env.inspector.put(`compaction-filler-${i}`).value(String(i)).exec()).header.revision;
    await env.inspector.kv.compact({ revision, physical: true });
    env.proxy.set({ kind: 'pass' });

    // each watch comes back at its old revision and etcd cancels it (2 requests); the waiter must watch again (2 more)
    const requests = await eventually(
      async () => (await watchRequests()) - requestsBefore,
      (count) => count >= 4,
      5_000,
    );
    assert.ok(requests >= 4, `the waiter watches again after etcd cancelled its compacted watches (${requests} watch requests)`);
    const releasedAt = performance.now();
    await lock.release();
    const taken = await waiting;
    const handoffMs = performance.now() - releasedAt;
    t.diagnostic(`handoff ${handoffMs.toFixed(1)} ms after the release`);
    assert.ok(taken.held);
    // the fallback poll is 1 s; a watched release arrives in a few ms
    assert.ok(handoffMs < 300, `the lock reached the waiter ${handoffMs.toFixed(1)} ms after the release`);
    await taken.release();
    await holderApp.close(); // before the server stops
  });
});
