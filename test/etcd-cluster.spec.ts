import assert from 'node:assert/strict';
import { after, before, describe, it, TestContext } from 'node:test';
import { Etcd3 } from 'etcd3';
import { Lock, LockerConfig, LockLostError } from 'nest-locker';
import { EtcdCluster, startEtcdCluster } from './harness/etcd-cluster';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually, sleep } from './helpers/wait';

const TTL = 2000;
let keyCounter = 0;
const freshKey = (name: string): string => `${name}-${process.pid}-${++keyCounter}`;

/** What a waiter saw the moment it got the lock. */
interface Taken {
  token: bigint;
  /** The previous holder still believed it held the lock: two holders at once. */
  overlapped: boolean;
}

describe('etcd driver on a 3-member cluster while members fail', () => {
  let cluster: EtcdCluster;
  let inspector: Etcd3;
  let apps: LockerApp[];
  const config = (endpoints = cluster.endpoints): LockerConfig => ({
    etcd: { endpoints },
    locker: { driver: 'etcd', driver_instance_id: 'etcd' },
  });
  const entries = (key: string) =>
    inspector
      .getAll()
      .prefix(`nest-locker/${encodeURIComponent(key)}/`)
      .count();

  before(async () => {
    cluster = await startEtcdCluster(3);
    inspector = new Etcd3({ hosts: cluster.endpoints.map((endpoint) => `http://${endpoint}`) });
    apps = await Promise.all([0, 1, 2].map(() => startLockerApp(config())));
  });
  after(async () => {
    await Promise.all((apps ?? []).map((app) => app.close()));
    inspector?.close();
    await cluster?.stop();
  });

  /**
   * Three keys, each held with keep-alive on one node and waited on by the two others; `outage` takes a
   * member down and back. Every holder keeps its lock through it (or, when `holdersMayLose`, is told it
   * lost it before a waiter gets it); the waiters then get the lock in turn, with growing tokens, and nothing stays on the server.
   */
  async function holdAndWaitThrough(t: TestContext, holdersMayLose: boolean, outage: () => Promise<void>): Promise<void> {
    const keys = [0, 1, 2].map(() => freshKey('outage'));
    const holders = await Promise.all(keys.map((key, i) => apps[i].service.acquire(key, { ttl: TTL })));
    const taken: Taken[][] = keys.map(() => []);
    const waiters = keys.flatMap((key, i) =>
      [1, 2].map(async (offset) => {
        const lock = await apps[(i + offset) % 3].service.acquire(key, { ttl: TTL, waitTime: 60_000 });
        const previous = taken[i].length === 0 ? holders[i] : undefined;
        taken[i].push({ token: lock.fencingToken, overlapped: previous?.held ?? false });
        await sleep(20);
        await lock.release();
      }),
    );
    for (const key of keys)
      assert.equal(
        await eventually(
          () => entries(key),
          (count) => count === 3,
        ),
        3,
        'holder and two waiters queued',
      );

    const probe = probeAcquisitions(apps[0]);
    let renewalsFailed = 0;
    const counting = apps.map((app) => app.service.events.subscribe((event) => void (event.type === 'renewal-failed' && renewalsFailed++)));
    await outage();
    counting.forEach((subscription) => subscription.unsubscribe());
    t.diagnostic(`renewals that failed and were retried: ${renewalsFailed}`);
    const probed = await probe.stop();
    t.diagnostic(
      `fresh acquisitions during the outage: ${probed.count}, slowest ${probed.slowest.toFixed(0)} ms, errors ${probed.errors.length} ${[...new Set(probed.errors)].join('; ')}`,
    );
    assert.ok(probed.count > 0, 'new locks could be taken during the outage');

    const lost = holders.filter((holder) => holder.signal.aborted);
    t.diagnostic(`holders that kept their lock: ${holders.length - lost.length} of ${holders.length}`);
    if (!holdersMayLose)
      assert.deepEqual(
        lost.map((holder) => String(holder.signal.reason)),
        [],
        'every holder kept its lock',
      );
    for (const holder of lost) assert.ok(holder.signal.reason instanceof LockLostError, `aborted with ${String(holder.signal.reason)}`);
    for (const holder of holders) if (!holder.signal.aborted) assert.equal(holder.held, true);

    await Promise.all(holders.map((holder) => holder.release()));
    await Promise.all(waiters);
    for (const [i, key] of keys.entries()) {
      assert.equal(taken[i].length, 2, `both waiters on ${key} got the lock`);
      assert.deepEqual(
        taken[i].map((turn) => turn.overlapped),
        [false, false],
        'no waiter got the lock while the one before believed it held it',
      );
      assert.ok(taken[i][0].token > holders[i].fencingToken && taken[i][1].token > taken[i][0].token, 'tokens keep growing');
      assert.equal(
        await eventually(
          () => entries(key),
          (count) => count === 0,
        ),
        0,
        'nothing of the lock is left on the server',
      );
    }
  }

  it('the leader killed: holders keep their locks through the election or are told first; waiters get them after', async (t) => {
    await holdAndWaitThrough(t, true, async () => {
      const leader = await cluster.leaderIndex();
      const killedAt = performance.now();
      await cluster.members[leader].kill();
      const next = await cluster.leaderIndex();
      t.diagnostic(`member ${leader} was leader; member ${next} leads ${(performance.now() - killedAt).toFixed(0)} ms after the kill`);
      await sleep(TTL * 2); // several renewals with the old leader gone
      await cluster.members[leader].start();
      await sleep(TTL); // and some after it rejoined
    });
  });

  it('a follower killed and restarted: holders keep their locks; waiters get them after', async (t) => {
    await holdAndWaitThrough(t, false, async () => {
      const follower = ((await cluster.leaderIndex()) + 1) % 3;
      await cluster.members[follower].kill();
      await sleep(TTL * 2);
      await cluster.members[follower].start();
      await sleep(TTL);
    });
  });

  it('a client whose first endpoint is down at startup connects through the others and keeps its lock alive', async () => {
    await cluster.members[0].kill();
    try {
      const app = await startLockerApp(config());
      try {
        const key = freshKey('first-down');
        const lock = await app.service.acquire(key, { ttl: TTL, waitTime: 5000 });
        await sleep(TTL * 2.5);
        assert.equal(lock.held, true, 'kept alive through the live members');
        assert.equal(lock.signal.aborted, false);
        assert.equal(await apps[1].service.tryAcquire(key), null);
        await lock.release();
        const next = await apps[1].service.acquire(key, { waitTime: 5000 });
        assert.ok(next.fencingToken > lock.fencingToken);
        await next.release();
        assert.equal(
          await eventually(
            () => entries(key),
            (count) => count === 0,
          ),
          0,
        );
      } finally {
        await app.close();
      }
    } finally {
      await cluster.members[0].start();
    }
  });

  it('once every app has shut down, no lock key and no lease is left on the cluster', async () => {
    await Promise.all(apps.map((app) => app.close()));
    const keysLeft = await eventually(
      () => inspector.getAll().prefix('nest-locker/').keys(),
      (left) => left.length === 0,
    );
    assert.deepEqual(keysLeft, []);
    const leasesLeft = await eventually(
      async () => (await inspector.leaseClient.leaseLeases()).leases,
      (left) => left.length === 0,
    );
    assert.deepEqual(leasesLeft, []);
  });
});

/** Takes and releases fresh locks in a loop on `app`: do new acquisitions go through, and how slowly at worst? */
function probeAcquisitions(app: LockerApp): { stop(): Promise<{ count: number; slowest: number; errors: string[] }> } {
  let running = true;
  const result = { count: 0, slowest: 0, errors: [] as string[] };
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const lock: Lock | null = await app.service.tryAcquire(freshKey('probe'), { ttl: TTL });
        await lock?.release();
        if (lock) result.count++;
      } catch (error) {
        result.errors.push(String(error));
      }
      result.slowest = Math.max(result.slowest, performance.now() - started);
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return result;
    },
  };
}
