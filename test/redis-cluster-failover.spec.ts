import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lock } from 'nest-locker';
import { redisCommand, waitUntil } from './harness/redis-command';
import { RedisCluster, startRedisCluster } from './harness/redis-cluster';
import type { TestServer } from './harness/servers';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

const lockName = (key: string): string => `nest-locker:{${key}}`;
let keys = 0;
const freshKey = (name: string): string => `${name}-${process.pid}-${++keys}`;

const isMaster = async (server: TestServer): Promise<boolean> => ((await redisCommand(server.port, 'ROLE')) as string[])[0] === 'master';

/** Manual failovers (`CLUSTER FAILOVER`, with and without FORCE) of the master that holds a lock, in a cluster with a replica per master. */
describe('redis driver on a Redis Cluster with replicas: manual failovers while locks are held', () => {
  let cluster: RedisCluster;
  let holder: LockerApp;
  let other: LockerApp;

  before(async () => {
    cluster = await startRedisCluster(3, undefined, { replicas: 1 });
    const config = { redis: { cluster: cluster.addrs }, locker: { driver: 'redis', driver_instance_id: 'redis' } };
    holder = await startLockerApp(config);
    other = await startLockerApp(config);
  });
  after(async () => {
    await other?.close();
    await holder?.close();
    await cluster?.stop();
  });

  /** Waits until `replica` leads its shard and every node agrees (the driver's slot map follows within a second). */
  const promoted = async (replica: TestServer, key: string) => {
    await waitUntil('the replica is master', () => isMaster(replica));
    await waitUntil('the cluster names it', async () => (await cluster.serving(lockName(key))).master.port === replica.port);
  };

  it('CLUSTER FAILOVER (coordinated): the holder keeps its lock on the new master, a waiter gets it only after the release', async () => {
    const key = freshKey('manual');
    const ttl = 3000;
    const held = await holder.service.acquire(key, { ttl });
    let waitedAt: number | undefined;
    const waiting = other.service.acquire(key, { ttl, waitTime: 30_000 }).then((lock) => {
      waitedAt = performance.now();
      return lock;
    });
    waiting.catch(() => undefined);
    const { master, replicas } = await cluster.serving(lockName(key));
    const owner = await redisCommand(master.port, 'GET', lockName(key));

    await redisCommand(replicas[0].port, 'CLUSTER', 'FAILOVER');
    await promoted(replicas[0], key);
    // renewed on the new master: its lease there grows again
    const leaseThen = Number(await redisCommand(replicas[0].port, 'PTTL', lockName(key)));
    const renewedThere = await eventually(
      async () => ({
        owner: await redisCommand(replicas[0].port, 'GET', lockName(key)),
        pttl: Number(await redisCommand(replicas[0].port, 'PTTL', lockName(key))),
      }),
      (seen) => seen.owner !== owner || seen.pttl > leaseThen,
      ttl * 2,
    );
    assert.equal(renewedThere.owner, owner, "the key on the new master is still the holder's");
    assert.ok(renewedThere.pttl > leaseThen, `renewed there: ${renewedThere.pttl} ms left, ${leaseThen} at the failover`);
    assert.ok(held.held && !held.signal.aborted, `still held: ${String(held.signal.reason)}`);
    assert.equal(waitedAt, undefined, 'the waiter has not taken it alongside the holder');

    const releasedAt = performance.now();
    await held.release();
    const next = await waiting;
    assert.ok(waitedAt !== undefined && waitedAt >= releasedAt);
    assert.ok(next.fencingToken > held.fencingToken, `token ${next.fencingToken} after ${held.fencingToken}`);
    await next.release();
  });

  /**
   * FORCE promotes the replica without waiting for it to catch up (the master may be unreachable). A lock the
   * master granted while its replica was behind is not on the new master, where another node can then take it.
   * It must not have been handed out: a lock counts only once the replicas that could take over have it.
   */
  it('CLUSTER FAILOVER FORCE with the replica behind: a lock the new master never got was not handed out', async () => {
    const key = freshKey('force');
    const ttl = 10_000;
    const { master, replicas } = await cluster.serving(lockName(key));
    const [replica] = replicas;
    // the replica falls behind: its link to the master dropped, and it cannot log in again (no such user there)
    await redisCommand(replica.port, 'CONFIG', 'SET', 'masteruser', 'nobody-here');
    await redisCommand(replica.port, 'CONFIG', 'SET', 'masterauth', 'nothing');
    try {
      await redisCommand(replica.port, 'CLIENT', 'KILL', 'TYPE', 'master');
      const taking = holder.service.tryAcquire(key, { ttl });
      taking.catch(() => undefined);
      await waitUntil('the master granted it', async () => Number(await redisCommand(master.port, 'EXISTS', lockName(key))) === 1);
      await redisCommand(replica.port, 'CLUSTER', 'FAILOVER', 'FORCE');
      await promoted(replica, key);
      assert.equal(Number(await redisCommand(replica.port, 'EXISTS', lockName(key))), 0, 'the new master never got the lock');

      // as an app would, until the old master, now a replica, has caught up (a full sync, ~5 s: redis waits
      // repl-diskless-sync-delay for more replicas first); until then nothing on this shard can be confirmed
      const taken = await eventually(
        () => other.service.tryAcquire(key, { ttl }).catch(() => null),
        (lock) => lock !== null,
        20_000,
      );
      assert.ok(taken, 'another node takes the lock on the new master');
      const first: Lock | null = await taking.catch(() => null);
      assert.ok(!first?.held, 'the lock the new master never got was handed out: two nodes hold it');
      await taken.release();
    } finally {
      await redisCommand(replica.port, 'CONFIG', 'SET', 'masteruser', '');
      await redisCommand(replica.port, 'CONFIG', 'SET', 'masterauth', '');
    }
  });
});
