import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { LockLostError } from 'nest-locker';
import { FaultProxy } from './harness/fault-proxy';
import { startRedis, TestServer } from './harness/servers';
import { lockerConfig } from './faults/environments';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { abortReason, eventually, wallNow } from './helpers/wait';

const TTL = 3000;

/**
 * The holder's connection black-holed (nothing forwarded, no close seen) while the server restarts without
 * its data: a waiter on another connection takes the lock as soon as it reconnects. The holder cannot
 * know until a renewal goes unanswered; that renewal, unanswered for a third of the TTL, ends its holding.
 */
describe('redis: a half-open holder while the server restarts without persistence', () => {
  let server: TestServer;
  let proxy: FaultProxy;
  let inspector: Redis;
  let holderApp: LockerApp;
  let waiterApp: LockerApp;

  before(async () => {
    server = await startRedis();
    proxy = await FaultProxy.start(server.port);
    inspector = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1 });
    inspector.on('error', () => undefined);
    holderApp = await startLockerApp(lockerConfig('redis', { addr: proxy.addr }));
    waiterApp = await startLockerApp(lockerConfig('redis', { addr: server.addr }));
  });
  after(async () => {
    proxy?.set({ kind: 'pass' });
    await holderApp?.close();
    await waiterApp?.close();
    inspector?.disconnect();
    await proxy?.close();
    await server?.stop();
  });

  it('the holder is told by its unanswered renewal (disconnected), within two thirds of the TTL of the waiter taking the lock', async (t) => {
    const key = 'half-open-restart';
    const holder = await holderApp.service.acquire(key, { ttl: TTL });
    const waiting = waiterApp.service.acquire(key, { ttl: 30_000, waitTime: 20_000 });
    await eventually(
      async () => Number(((await inspector.pubsub('NUMSUB', `nest-locker:{${key}}:released`)) as [string, number])[1]),
      (count) => count === 1,
      10_000,
    );
    const told = abortReason(holder.signal, 2 * TTL).then(() => wallNow());
    proxy.set({ kind: 'cut' });
    await server.restart();
    const lock = await waiting;
    const takenAt = wallNow();
    const overlapMs = (await told) - takenAt;
    const reason: unknown = holder.signal.reason;
    t.diagnostic(`both believed they held the lock for ${Math.round(overlapMs)} ms`);
    assert.ok(reason instanceof LockLostError);
    assert.equal(reason.reason, 'disconnected', `told by the unanswered renewal, not at its lease deadline: ${reason.message}`);
    assert.ok(overlapMs < (2 * TTL) / 3 + 500, `overlap ${Math.round(overlapMs)} ms: at most a renewal period and a renewal's deadline`);
    // once the holder's connection is back, its owner-checked releases leave the new holder's lock alone
    proxy.set({ kind: 'pass' });
    await eventually(
      async () => proxy.connectionCount,
      (count) => count > 0,
      10_000,
    );
    await (await holderApp.service.acquire('after-heal', { waitTime: 10_000 })).release();
    assert.ok(lock.held, 'the new holder still holds it');
    assert.equal(await inspector.exists(`nest-locker:{${key}}`), 1);
    await lock.release();
  });
});
