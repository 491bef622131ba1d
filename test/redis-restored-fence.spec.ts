import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { redisCommand } from './harness/redis-command';
import { startRedis, TestServer } from './harness/servers';
import { startLockerApp } from './helpers/locker-app';

/**
 * A single server that crashes and comes back from its last snapshot (or an AOF a second behind) has the
 * lock's fence as it was then: older than the tokens it gave since. A node that never saw those tokens must
 * still get a token above them.
 */
describe('redis: a fence restored from a snapshot older than its last tokens', () => {
  let server: TestServer;

  before(async () => {
    server = await startRedis();
  });

  after(async () => {
    await server?.stop();
  });

  it('a node that joins after the crash gets a token above every token given before it', async () => {
    const config = { redis: { addr: server.addr }, locker: { driver: 'redis' as const, driver_instance_id: 'redis' } };
    const before = await startLockerApp(config);
    let last = 0n;
    const cycle = async () => {
      const lock = await before.service.acquire('restored', { waitTime: 5_000 });
      last = lock.fencingToken;
      await lock.release();
    };
    try {
      await cycle();
      await cycle();
      await redisCommand(server.port, 'SAVE'); // the snapshot the crash goes back to
      for (let i = 0; i < 3; i++) await cycle();
    } finally {
      await before.close();
    }
    await server.kill(); // SIGKILL: what came after the snapshot is lost
    await server.start();
    const restored = BigInt(String(await redisCommand(server.port, 'GET', 'nest-locker:{restored}:fence')));
    assert.ok(restored < last, `the server came back with the fence of the snapshot, ${restored}, below the last token ${last}`);
    const joined = await startLockerApp(config);
    try {
      const lock = await joined.service.acquire('restored', { waitTime: 5_000 });
      assert.ok(lock.fencingToken > last, `the token after the crash, ${lock.fencingToken}, is above the last before it, ${last}`);
      await lock.release();
    } finally {
      await joined.close();
    }
  });
});
