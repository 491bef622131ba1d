import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Lock } from 'nest-locker';
import { startRedis, TestServer } from './harness/servers';
import { lockerConfig } from './faults/environments';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

/** How far the tokens before the restart run ahead of the server's clock after it (as after a clock stepped back). */
const AHEAD_US = 3_600_000_000n;

/**
 * Redis seeds a lost fence counter from the server's clock. When that clock is behind the tokens the
 * server gave before its restart (its clock was ahead then, or stepped back since), the clock alone would
 * give lower tokens; the driver's floor (the highest token it was given) keeps them growing.
 */
describe('redis: fencing tokens across a restart that lost the data', () => {
  let server: TestServer;
  let inspector: Redis;
  let app: LockerApp;

  before(async () => {
    server = await startRedis();
    inspector = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1 });
    inspector.on('error', () => undefined);
    app = await startLockerApp(lockerConfig('redis', { addr: server.addr }));
  });
  after(async () => {
    await app?.close();
    inspector?.disconnect();
    await server?.stop();
  });

  it('never go backwards when the server clock after the restart is behind the tokens given before it', async () => {
    const key = 'fence-ahead-of-clock';
    const [seconds, micros] = (await inspector.time()) as [number | string, number | string];
    const serverNowUs = BigInt(seconds) * 1_000_000n + BigInt(micros);
    // the fence as a server whose clock was an hour ahead would have left it
    await inspector.set(`nest-locker:{${key}}:fence`, String(serverNowUs + AHEAD_US));
    const before = await app.service.acquire(key);
    assert.ok(before.fencingToken > serverNowUs + AHEAD_US);
    await before.release();

    await server.restart(); // no persistence: the fence counter is gone
    assert.equal(await inspector.exists(`nest-locker:{${key}}:fence`), 0, 'the restart lost the fence');
    const after = await eventually(
      () => app.service.tryAcquire(key).catch(() => null), // refused while the driver reconnects
      (lock): lock is Lock => lock !== null,
      10_000,
    );
    assert.ok(after, 'acquired after the restart');
    assert.ok(
      after.fencingToken > before.fencingToken,
      `token after the restart ${after.fencingToken} is above the one before it ${before.fencingToken}`,
    );
    await after.release();
  });
});
