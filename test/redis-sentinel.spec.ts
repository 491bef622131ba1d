import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LockerConfigError, LockLostError } from 'nest-locker';
import { freePort } from './harness/free-port';
import { redisCommand } from './harness/redis-command';
import { RedisSentinelSetup, startRedisSentinel } from './harness/redis-sentinel';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

const lockName = (key: string): string => `nest-locker:{${key}}`;

/** The redis driver finding its master through Redis Sentinel, before and after a failover. */
describe('redis driver behind Redis Sentinel', () => {
  let setup: RedisSentinelSetup;
  let app: LockerApp;
  let other: LockerApp;

  before(async () => {
    setup = await startRedisSentinel();
    const config = {
      redis: { sentinels: setup.sentinelAddrs, master_name: setup.masterName },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
    };
    app = await startLockerApp(config);
    other = await startLockerApp(config);
  });
  after(async () => {
    await other?.close();
    await app?.close();
    await setup?.stop();
  });

  it('takes locks on the master the sentinels name', async () => {
    const key = `sentinel-${process.pid}`;
    const lock = await app.service.acquire(key);
    assert.equal(await setup.currentMasterAddr(), setup.master.addr);
    assert.ok(await redisCommand(setup.master.port, 'GET', lockName(key)), 'the lock is on the master');
    assert.equal(await other.service.tryAcquire(key), null, 'another node is excluded');
    await lock.release();
    const next = await other.service.acquire(key, { waitTime: 3000 });
    assert.ok(next.fencingToken > lock.fencingToken);
    await next.release();
  });

  it('after a failover the driver uses the new master, and fencing tokens never go backwards', async (t) => {
    const key = `failover-${process.pid}`;
    const ttl = 6000;
    const held = await app.service.acquire(key, { ttl });
    const owner = await redisCommand(setup.master.port, 'GET', lockName(key));
    // give the lock its best chance: on the replica before the master dies (replication is asynchronous)
    const replicated = await eventually(
      () => redisCommand(setup.replica.port, 'GET', lockName(key)),
      (value) => value === owner,
    );
    assert.equal(replicated, owner);

    await setup.failover();
    assert.equal(await setup.currentMasterAddr(), setup.replica.addr);

    // new acquisitions work on the new master
    const fresh = await other.service.acquire(`after-failover-${process.pid}`, { waitTime: 10_000 });
    assert.ok(await redisCommand(setup.replica.port, 'GET', lockName(fresh.key)), 'taken on the promoted replica');
    await fresh.release();

    // the held lock: either still ours on the new master (renewed there) or its holder was told it is lost
    const outcome = await eventually(
      async () => ({ held: held.held && !held.signal.aborted, onServer: await redisCommand(setup.replica.port, 'GET', lockName(key)) }),
      (seen) => !seen.held || seen.onServer === owner,
      ttl,
    );
    if (outcome.held) {
      assert.equal(outcome.onServer, owner, 'a lock still held is ours on the new master');
      const pttl = Number(await redisCommand(setup.replica.port, 'PTTL', lockName(key)));
      assert.ok(pttl > 0);
      t.diagnostic(`the held lock survived the failover (owner key replicated, renewed on the new master, pttl ${pttl} ms)`);
      assert.equal(await other.service.tryAcquire(key), null, 'and still excludes others');
    } else {
      assert.ok(held.signal.reason instanceof LockLostError, `aborted with ${String(held.signal.reason)}`);
      t.diagnostic(`the held lock was lost in the failover: ${(held.signal.reason as Error).message}`);
    }
    await held.release();
    const after = await other.service.acquire(key, { waitTime: ttl + 3000 });
    assert.ok(after.fencingToken > held.fencingToken, `token ${after.fencingToken} after ${held.fencingToken}`);
    await after.release();
  });

  it('unreachable sentinels fail at startup with a LockerConfigError naming the field and the address', async () => {
    const addr = `127.0.0.1:${await freePort()}`;
    await assert.rejects(
      startLockerApp({
        redis: { sentinels: [addr], master_name: 'nobody', connect_timeout: 1000 },
        locker: { driver: 'redis', driver_instance_id: 'redis' },
      }),
      (error: unknown) => {
        assert.ok(error instanceof LockerConfigError, String(error));
        assert.equal(error.section, 'redis');
        assert.equal(error.field, 'sentinels');
        assert.match(error.message, /cannot reach/);
        assert.ok(error.message.includes(addr), error.message);
        return true;
      },
    );
  });
});
