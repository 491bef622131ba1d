import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Lock, LockerConfigError, LockerModule, LockLostError } from 'nest-locker';
import { clusterKeySlot } from '../lib/drivers/redis/redis-cluster-slot';
import { freePort } from './harness/free-port';
import { loginAs, NO_SPUBLISH_USER, NO_SPUBLISH_USER_ARGS } from './harness/redis-acl';
import { RedisCluster, startRedisCluster } from './harness/redis-cluster';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { abortReason, eventually, sleep } from './helpers/wait';

let keyCounter = 0;
const freshKeys = (name: string, count: number): string[] => Array.from({ length: count }, () => `${name}-${process.pid}-${++keyCounter}`);
const lockName = (key: string): string => `nest-locker:{${key}}`;

/** What a 3-master Redis Cluster holds while the redis driver keeps many locks on it. */
describe('redis driver on a Redis Cluster', () => {
  let cluster: RedisCluster;
  /** A plain connection per master: answers only for the keys that master stores. */
  let perNode: Redis[];
  let app: LockerApp;
  let other: LockerApp;

  before(async () => {
    cluster = await startRedisCluster(3, undefined, { serverArgs: NO_SPUBLISH_USER_ARGS });
    // inspectors wait out a master's restart rather than fail
    perNode = cluster.nodes.map((node) => new Redis({ host: '127.0.0.1', port: node.port, maxRetriesPerRequest: null }));
    perNode.forEach((connection) => connection.on('error', () => undefined));
    const config = { redis: { cluster: cluster.addrs }, locker: { driver: 'redis', driver_instance_id: 'redis' } };
    app = await startLockerApp(config);
    other = await startLockerApp(config);
  });
  after(async () => {
    await other?.close();
    await app?.close();
    perNode?.forEach((connection) => connection.disconnect());
    await cluster?.stop();
  });

  /** Index of the master that stores `name`, asking each master directly (the others answer MOVED). */
  const nodeOf = async (name: string): Promise<number> => {
    const found = await Promise.all(
      perNode.map((connection) =>
        connection.exists(name).catch((error: Error) => (/^MOVED/.test(error.message) ? 0 : Promise.reject(error))),
      ),
    );
    assert.equal(found.filter(Boolean).length, 1, `${name} is on exactly one master`);
    return found.indexOf(1);
  };

  it('computes the same slot as the servers for lock names, hash tags included', async () => {
    const names = [...freshKeys('slot', 50).map(lockName), lockName('a%7Bb'), 'plain-key', 'x{}y', '{}{tag}', 'é{ü}'];
    for (const name of names) assert.equal(clusterKeySlot(name), await perNode[0].cluster('KEYSLOT', name), name);
  });

  it('holds many keys spread over all masters at once, renewing them across several TTLs, each fence beside its lock', async () => {
    const ttl = 1200; // renewals every 400 ms: a 250 ms stall of a busy machine does not lose a lease
    const keys = freshKeys('spread', 60);
    const locks = await Promise.all(keys.map((key) => app.service.acquire(key, { ttl })));
    const nodes = await Promise.all(keys.map((key) => nodeOf(lockName(key))));
    assert.equal(new Set(nodes).size, 3, 'the keys sit on all three masters');
    for (const [i, key] of keys.entries()) {
      const fence = await perNode[nodes[i]].get(`${lockName(key)}:fence`);
      assert.equal(fence, String(locks[i].fencingToken), `the fencing counter of ${key} is on the master of its lock`);
    }
    await sleep(ttl * 2.5); // only renewals keep them past their TTL
    assert.deepEqual(
      locks.filter((lock) => !lock.held || lock.signal.aborted).map((lock) => lock.key),
      [],
      'every lock is still held',
    );
    const ttlsLeft = await Promise.all(keys.map((key, i) => perNode[nodes[i]].pttl(lockName(key))));
    assert.ok(
      ttlsLeft.every((left) => left > 0),
      `every key is still on its master with a lease: ${ttlsLeft.join(',')}`,
    );
    for (const key of keys) assert.equal(await other.service.tryAcquire(key), null, `${key} excludes another node`);
    await Promise.all(locks.map((lock) => lock.release()));
    const left = await Promise.all(keys.map((key, i) => perNode[nodes[i]].exists(lockName(key))));
    assert.equal(
      left.reduce((sum, n) => sum + n, 0),
      0,
      'released everywhere',
    );
  });

  it('a master killed and restarted: its holders are told, the other masters keep their locks, tokens keep growing', async () => {
    const ttl = 1000;
    const keys = freshKeys('master-down', 30);
    const locks = await Promise.all(keys.map((key) => app.service.acquire(key, { ttl })));
    const nodes = await Promise.all(keys.map((key) => nodeOf(lockName(key))));
    const counts = [0, 1, 2].map((node) => nodes.filter((n) => n === node).length);
    const victim = counts.indexOf(Math.max(...counts));
    const onVictim = locks.filter((_, i) => nodes[i] === victim);
    const elsewhere = locks.filter((_, i) => nodes[i] !== victim);
    assert.ok(onVictim.length > 0 && elsewhere.length > 0);
    const ownersElsewhere = await Promise.all(elsewhere.map((lock) => perNode[nodes[locks.indexOf(lock)]].get(lockName(lock.key))));

    await cluster.nodes[victim].kill();
    const reasons = await Promise.all(onVictim.map((lock) => abortReason(lock.signal, ttl * 5)));
    for (const reason of reasons) assert.ok(reason instanceof LockLostError, `aborted with ${String(reason)}`);
    assert.ok(onVictim.every((lock) => !lock.held));
    const stillHeld = (lock: Lock) => lock.held && !lock.signal.aborted;
    assert.deepEqual(
      elsewhere.filter((lock) => !stillHeld(lock)).map((lock) => lock.key),
      [],
      'locks on the other masters are untouched',
    );

    await cluster.nodes[victim].start(); // back with its slots, without its data
    const retaken = await Promise.all(onVictim.map((lock) => other.service.acquire(lock.key, { waitTime: 10_000 })));
    retaken.forEach((lock, i) =>
      assert.ok(lock.fencingToken > onVictim[i].fencingToken, `token ${lock.fencingToken} after ${onVictim[i].fencingToken}`),
    );
    assert.deepEqual(
      elsewhere.filter((lock) => !stillHeld(lock)).map((lock) => lock.key),
      [],
      'still untouched after the restart',
    );
    const ownersAfter = await Promise.all(elsewhere.map((lock) => perNode[nodes[locks.indexOf(lock)]].get(lockName(lock.key))));
    assert.deepEqual(ownersAfter, ownersElsewhere, 'the same owners hold the keys on the other masters');
    await Promise.all([...retaken, ...locks].map((lock) => lock.release()));
  });

  it('a waiter still hears releases after the master its subscriber listened on went away (classic pub/sub: a user without SPUBLISH)', async () => {
    // the one subscriber connection of classic pub/sub; sharded pub/sub listens on each lock's own master instead
    const classicConfig = {
      redis: { cluster: cluster.addrs, ...loginAs(NO_SPUBLISH_USER) },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
    };
    const [app, other] = [await startLockerApp(classicConfig), await startLockerApp(classicConfig)];
    try {
      await subscriberNodeGoesAway(app, other);
    } finally {
      await Promise.all([app.close(), other.close()]);
    }
  });

  async function subscriberNodeGoesAway(app: LockerApp, other: LockerApp): Promise<void> {
    /** The master where the app listens for releases of `key` (-1: none), not asking the one that is `down`. */
    const subscribedOn = async (key: string, down = -1) => {
      const counts = await Promise.all(
        perNode.map(async (connection, node) =>
          node === down ? 0 : Number((await connection.pubsub('NUMSUB', `${lockName(key)}:released`))[1]),
        ),
      );
      return counts.indexOf(1);
    };
    // a first wait opens the app's subscriber connection on some master
    const [warmUp] = freshKeys('subscriber-warm-up', 1);
    const warmHolder = await other.service.acquire(warmUp);
    const warmWaiter = app.service.acquire(warmUp, { waitTime: 20_000 });
    const listening = await eventually(
      () => subscribedOn(warmUp),
      (node) => node !== -1,
    );
    assert.notEqual(listening, -1, 'the waiter subscribed on a master');
    await warmHolder.release();
    await (await warmWaiter).release();
    // a key held on another master, waited on through the same subscriber connection
    let key: string;
    let holder: Lock;
    for (;;) {
      [key] = freshKeys('subscriber-node', 1);
      holder = await other.service.acquire(key, { ttl: 60_000 });
      if ((await nodeOf(lockName(key))) !== listening) break;
      await holder.release();
    }
    const waiting = app.service.acquire(key, { waitTime: 20_000 });
    waiting.catch(() => undefined); // a failure is reported where it is awaited, not as an unhandled rejection meanwhile
    assert.equal(
      await eventually(
        () => subscribedOn(key),
        (node) => node !== -1,
      ),
      listening,
    );
    await cluster.nodes[listening].kill();
    const moved = await eventually(
      () => subscribedOn(key, listening),
      (node) => node !== -1,
      10_000,
    );
    assert.ok(moved !== -1 && moved !== listening, `subscribed again on another master (now ${moved})`);
    await holder.release(); // published on the holder's master, heard cluster-wide
    // the holder's lease (60 s) is far beyond the wait time: only the release can wake the waiter
    const next = await waiting;
    assert.ok(next.fencingToken > holder.fencingToken);
    await next.release();
    await cluster.nodes[listening].start();
  }

  it('refuses a key_prefix with a hash tag brace at bootstrap, on a cluster and on one server alike, naming section and field', () => {
    for (const [connection, key_prefix] of [
      [{ cluster: cluster.addrs }, 'app{tenant}:'],
      [{ cluster: cluster.addrs }, 'app{:'],
      [{ addr: '127.0.0.1:1' }, 'app}:'],
    ] as const) {
      assert.throws(
        () => LockerModule.forRoot({ redis: connection, jobs: { driver: 'redis', driver_instance_id: 'redis', key_prefix } }),
        (error: unknown) =>
          error instanceof LockerConfigError &&
          error.section === 'jobs' &&
          error.field === 'key_prefix' &&
          error.message.includes(key_prefix),
      );
    }
  });

  it('unreachable cluster nodes fail at startup with a LockerConfigError naming the field and the address', async () => {
    const addr = `127.0.0.1:${await freePort()}`;
    await assert.rejects(
      startLockerApp({ redis: { cluster: [addr], connect_timeout: 1000 }, locker: { driver: 'redis', driver_instance_id: 'redis' } }),
      (error: unknown) => {
        assert.ok(error instanceof LockerConfigError, String(error));
        assert.equal(error.section, 'redis');
        assert.equal(error.field, 'cluster');
        assert.match(error.message, /cannot reach/);
        assert.ok(error.message.includes(addr), error.message);
        return true;
      },
    );
  });
});
