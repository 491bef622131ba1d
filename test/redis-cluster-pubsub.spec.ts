import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Lock } from 'nest-locker';
import { clusterKeySlot } from '../lib/drivers/redis/redis-cluster-slot';
import { settleWithin } from '../lib/utils/settle-within';
import { ACL_USER, CLUSTER_RULES, documentedUserArgs, loginAs, NO_SPUBLISH_USER, NO_SPUBLISH_USER_ARGS } from './harness/redis-acl';
import { RedisCluster, startRedisCluster } from './harness/redis-cluster';
import { channelSubscribers, pubSubMessagesSent } from './harness/redis-cluster-stats';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { warnedWhile } from './helpers/logged-warnings';
import { eventually } from './helpers/wait';

let keyCounter = 0;
const freshKey = (name: string): string => `${name}-${process.pid}-${++keyCounter}`;
const lockName = (key: string): string => `nest-locker:{${key}}`;
const channelOf = (key: string): string => `${lockName(key)}:released`;

const COMMAND_TIMEOUT = 1000;
/** Beyond its deadline, what a call may take on a busy 2-core machine (timers late, a reconnect). */
const SLACK_MS = 1500;

/** Long enough for a busy machine, far short of the 60 s a waiter would otherwise wait out. */
const WOKEN_WITHIN_MS = 15_000;
/** The waiter's lock once it was woken, not left to wait out its 60 s (at the end of which it would look once more). */
async function woken(waiting: Promise<Lock>): Promise<Lock> {
  assert.ok(await settleWithin(waiting, WOKEN_WITHIN_MS), `the waiter was woken within ${WOKEN_WITHIN_MS} ms, not left to wait 60 s`);
  return waiting;
}

/** The least-privilege user of docs/production.md, with the two cluster commands the docs add for a cluster. */
const DOCUMENTED_USER_ARGS = documentedUserArgs(ACL_USER, undefined, CLUSTER_RULES);

/**
 * Waiters hear releases on a 3-master cluster: by sharded pub/sub (only the lock's master carries the
 * message) where the servers and the user allow SPUBLISH, else by classic pub/sub (every master carries it).
 * The holders' leases (60 s) outlast the waits (20 s), or the waits are checked to end long before 60 s: only a
 * release, or the waiter looking again, can end a wait.
 */
describe('redis driver on a Redis Cluster: how releases reach waiters', () => {
  let cluster: RedisCluster;
  let perNode: Redis[];
  const apps: LockerApp[] = [];
  let sharded: LockerApp[];
  let classic: LockerApp[];
  /** What the apps' bootstrap logged as warnings. */
  let shardedWarnings: string[];
  let classicWarnings: string[];

  const startApp = async (username: string): Promise<LockerApp> => {
    const config = { redis: { cluster: cluster.addrs, ...loginAs(username) }, locker: { driver: 'redis', driver_instance_id: 'redis' } };
    const app = await startLockerApp(config);
    apps.push(app);
    return app;
  };

  before(async () => {
    cluster = await startRedisCluster(3, undefined, { serverArgs: [...DOCUMENTED_USER_ARGS, ...NO_SPUBLISH_USER_ARGS] });
    perNode = cluster.nodes.map((node) => new Redis({ host: '127.0.0.1', port: node.port, maxRetriesPerRequest: null }));
    perNode.forEach((connection) => connection.on('error', () => undefined));
    [sharded, shardedWarnings] = await warnedWhile(async () => [await startApp(ACL_USER), await startApp(ACL_USER)]);
    [classic, classicWarnings] = await warnedWhile(async () => [await startApp(NO_SPUBLISH_USER), await startApp(NO_SPUBLISH_USER)]);
  });
  after(async () => {
    await Promise.all(apps.map((app) => app.close()));
    perNode?.forEach((connection) => connection.disconnect());
    await cluster?.stop();
  });

  /** Index of the master that owns the slot of `name`. */
  const ownerOf = async (name: string): Promise<number> => {
    const slot = clusterKeySlot(name);
    const ranges = (await perNode[0].cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    const port = ranges.find(([from, to]) => from <= slot && slot <= to)?.[2][1];
    return cluster.nodes.findIndex((node) => node.port === port);
  };
  const subscribers = (channel: string) => channelSubscribers(perNode, channel);
  const total = (counts: number[]): number => counts.reduce((sum, count) => sum + count, 0);
  /** Subscribers of `key`'s releases once the one on master `node` (SSUBSCRIBE) is there, or after 3 s. */
  const listeningOn = (key: string, node: number) =>
    eventually(
      () => subscribers(channelOf(key)),
      (counts) => counts.sharded[node] === 1,
    );
  /** An app holds `key` for 60 s and another waits for it (`waitTime`), listening on master `node`. */
  const holdAndWait = async (key: string, node: number, waitTime: number) => {
    const holder = await sharded[0].service.acquire(key, { ttl: 60_000 });
    const waiting = sharded[1].service.acquire(key, { waitTime, ttl: 60_000 });
    return { holder, waiting, listening: await listeningOn(key, node) };
  };

  it('as the documented least-privilege user: a release and a forceRelease wake a waiter in another app, carried by the lock master alone (SSUBSCRIBE there, no PUBLISH on the bus)', async () => {
    const key = freshKey('sharded');
    const owner = await ownerOf(lockName(key));
    const { holder, waiting, listening } = await holdAndWait(key, owner, 20_000);
    assert.deepEqual(
      listening.sharded.map((count, node) => (node === owner ? count : 0)),
      listening.sharded,
      'only the lock master has the subscriber',
    );
    assert.equal(listening.sharded[owner], 1, 'the waiter listens with SSUBSCRIBE on the lock master');
    assert.equal(total(listening.classic), 0, 'and with SUBSCRIBE nowhere');
    assert.deepEqual(
      shardedWarnings.filter((message) => /PUBLISH/.test(message)),
      [],
      'no word of a fallback',
    );

    const before = await pubSubMessagesSent(cluster);
    await holder.release();
    const next = await waiting;
    assert.ok(next.fencingToken > holder.fencingToken, 'the waiter took the lock after the release');

    // an operator's forceRelease announces the same way
    const third = sharded[0].service.acquire(key, { waitTime: 20_000 });
    await listeningOn(key, owner);
    assert.equal(await sharded[0].service.forceRelease(key), true);
    const taken = await third;
    assert.ok(taken.fencingToken > next.fencingToken, 'the waiter took the lock after the forceRelease');
    const sent = await pubSubMessagesSent(cluster);
    assert.equal(sent.publish - before.publish, 0, 'no PUBLISH went over the cluster bus');
    await taken.release();
    await next.release().catch(() => undefined); // force-released: lost already
  });

  it('falls back to PUBLISH/SUBSCRIBE for a user that may not run SPUBLISH: the release goes to every master and wakes the waiter', async () => {
    const key = freshKey('classic');
    const holder = await classic[0].service.acquire(key, { ttl: 60_000 });
    const waiting = classic[1].service.acquire(key, { waitTime: 20_000 });
    const listening = await eventually(
      () => subscribers(channelOf(key)),
      (counts) => total(counts.classic) === 1,
    );
    assert.equal(total(listening.classic), 1, 'the waiter listens with SUBSCRIBE on some master');
    assert.equal(total(listening.sharded), 0, 'and with SSUBSCRIBE nowhere');
    const said = classicWarnings.filter((message) => /announced with PUBLISH/.test(message));
    assert.equal(said.length, classic.length, `one warning per app at bootstrap: ${classicWarnings.join('\n')}`);
    assert.match(said[0], /^\[redis\] .*may not run SPUBLISH; grant \+spublish \+ssubscribe \+sunsubscribe/);
    const before = await pubSubMessagesSent(cluster);
    await holder.release();
    const next = await waiting;
    assert.ok(next.fencingToken > holder.fencingToken);
    const sent = await pubSubMessagesSent(cluster);
    assert.ok(sent.publish - before.publish >= cluster.nodes.length - 1, 'the PUBLISH went over the bus to the other masters');
    await next.release();
  });

  it('a waiter whose sharded subscriber connection was dropped looks again once it listens again (a release may have been missed), and hears the next release', async () => {
    const key = freshKey('sharded-dropped');
    const owner = await ownerOf(lockName(key));
    const { holder, waiting } = await holdAndWait(key, owner, 60_000);
    // the lock goes without a word (as if its release was published while the subscriber was away)
    assert.equal(await perNode[owner].del(lockName(key)), 1);
    await killShardSubscribers(perNode[owner]);
    const next = await woken(waiting);
    assert.ok(next.fencingToken > holder.fencingToken, 'the waiter looked again and took the free lock');
    const again = await eventually(
      () => subscribers(channelOf(key)),
      (counts) => counts.sharded[owner] === 0,
    );
    assert.equal(again.sharded[owner], 0, 'no one waits: unsubscribed');

    const third = sharded[0].service.acquire(key, { waitTime: 20_000 });
    await listeningOn(key, owner);
    await next.release();
    assert.ok((await third).fencingToken > next.fencingToken, 'the release after the reconnect was heard');
    await (await third).release();
    await holder.release().catch(() => undefined); // deleted under it
  });

  it('a slot that moves to another master: the waiter listens on the new master, looks again, and hears releases there', async () => {
    const key = freshKey('sharded-moved');
    const from = await ownerOf(lockName(key));
    const to = (from + 1) % cluster.nodes.length;
    const { holder, waiting } = await holdAndWait(key, from, 60_000);
    // freed without a word, then its slot moves (with the fence counter)
    assert.equal(await perNode[from].del(lockName(key)), 1);
    await moveSlot(clusterKeySlot(lockName(key)), perNode, from, to);
    assert.equal(await ownerOf(lockName(key)), to);
    const next = await woken(waiting);
    assert.ok(next.fencingToken > holder.fencingToken, 'the waiter looked again after the move and took the free lock');

    const third = sharded[0].service.acquire(key, { waitTime: 20_000 });
    const listening = await listeningOn(key, to);
    assert.equal(listening.sharded[to], 1, 'the next waiter listens on the new master');
    await next.release();
    const taken = await third;
    assert.ok(taken.fencingToken > next.fencingToken, 'the release on the new master was heard');
    await taken.release();
    await holder.release().catch(() => undefined);
  });

  it('shutdown settles by command_timeout while the master its sharded subscriber listens on does not answer', async () => {
    const config = {
      redis: { cluster: cluster.addrs, ...loginAs(ACL_USER), command_timeout: COMMAND_TIMEOUT },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
    };
    const closing = await startLockerApp(config);
    const key = freshKey('sharded-silent-close');
    const owner = await ownerOf(lockName(key));
    const holder = await sharded[0].service.acquire(key, { ttl: 60_000 });
    const waiting = closing.service.acquire(key, { waitTime: 60_000 }).catch((error: Error) => error);
    await listeningOn(key, owner);
    cluster.nodes[owner].pause!(); // SIGSTOP: its connections stay open, nothing answers
    let settled: boolean;
    try {
      settled = await settleWithin(closing.close(), COMMAND_TIMEOUT + SLACK_MS);
    } finally {
      cluster.nodes[owner].resume!();
    }
    assert.ok(settled, `app.close() settled within ${COMMAND_TIMEOUT + SLACK_MS} ms`);
    assert.ok((await waiting) instanceof Error, 'the waiter was told it will not get the lock');
    await holder.release().catch(() => undefined); // its master may still be marked as failing
  });
});

/** Closes every connection of `node` that listens with SSUBSCRIBE (CLIENT LIST's `ssub=`). */
async function killShardSubscribers(node: Redis): Promise<void> {
  const clients = String(await node.client('LIST'))
    .trim()
    .split('\n');
  const ids = clients.filter((line) => /\bssub=[1-9]/.test(line)).map((line) => /\bid=(\d+)/.exec(line)?.[1] as string);
  assert.ok(ids.length > 0, 'a sharded subscriber to drop');
  for (const id of ids) await node.client('KILL', 'ID', id);
}

/** Moves `slot` and its keys from master `from` to master `to`, as resharding does (IMPORTING/MIGRATING, MIGRATE, NODE). */
async function moveSlot(slot: number, nodes: Redis[], from: number, to: number): Promise<void> {
  const [fromId, toId] = await Promise.all([nodes[from].cluster('MYID'), nodes[to].cluster('MYID')]);
  await nodes[to].cluster('SETSLOT', slot, 'IMPORTING', fromId);
  await nodes[from].cluster('SETSLOT', slot, 'MIGRATING', toId);
  const keys = await nodes[from].cluster('GETKEYSINSLOT', slot, 100);
  if (keys.length > 0) await nodes[from].migrate('127.0.0.1', nodes[to].options.port as number, '', 0, 5000, 'KEYS', ...keys);
  for (const node of [to, from, ...nodes.keys()].filter((node, i, all) => all.indexOf(node) === i)) {
    await nodes[node].cluster('SETSLOT', slot, 'NODE', toId);
  }
}
