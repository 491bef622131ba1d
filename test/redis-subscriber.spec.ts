import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { FaultProxy } from './harness/fault-proxy';
import { startRedis, TestServer } from './harness/servers';
import { lockerConfig } from './faults/environments';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually, wallNow } from './helpers/wait';

/** Far longer than any handoff: a waiter that woke only at the holder's expiry could not pass for one woken by the release. */
const HOLDER_TTL = 30_000;

/**
 * The shared release subscriber: a SUBSCRIBE that fails because its connection is down when a key starts
 * waiting is sent again once the connection is back, so the next handoff still comes on the release.
 */
describe('redis: a release subscription that failed is made again', () => {
  let server: TestServer;
  let proxy: FaultProxy;
  let inspector: Redis;
  /** Waits through the proxy: its command connection is open before the fault, its subscriber is not. */
  let waiterApp: LockerApp;
  let holderApp: LockerApp;

  before(async () => {
    server = await startRedis();
    proxy = await FaultProxy.start(server.port);
    inspector = new Redis({ host: '127.0.0.1', port: server.port });
    waiterApp = await startLockerApp(lockerConfig('redis', { addr: proxy.addr }));
    holderApp = await startLockerApp(lockerConfig('redis', { addr: server.addr }));
  });
  after(async () => {
    proxy?.refuseNewConnections(false);
    await waiterApp?.close();
    await holderApp?.close();
    inspector?.disconnect();
    await proxy?.close();
    await server?.stop();
  });

  it('the subscriber connection refused when a key starts waiting, then back: the waiter gets the lock on the release', async () => {
    const key = 'resubscribe';
    const channel = `nest-locker:{${key}}:released`;
    const holder = await holderApp.service.acquire(key, { ttl: HOLDER_TTL });
    // the waiter's app opens its subscriber only now, when a key starts waiting: refuse it
    proxy.refuseNewConnections(true);
    const refusedBefore = proxy.refused;
    const waiting = waiterApp.service.acquire(key, { waitTime: HOLDER_TTL * 2 });
    waiting.catch(() => undefined);
    // ioredis fails a queued command once its connection failed twice (maxRetriesPerRequest: 1); three to be sure
    await eventually(
      async () => proxy.refused - refusedBefore,
      (refused) => refused >= 3,
      10_000,
    );
    assert.ok(proxy.refused - refusedBefore >= 3, 'the subscriber was refused');
    proxy.refuseNewConnections(false);
    const subscribers = await eventually(
      async () => Number(((await inspector.pubsub('NUMSUB', channel)) as [string, number])[1]),
      (count) => count === 1,
      10_000,
    );
    assert.equal(subscribers, 1, 'subscribed again once the connection was back');
    const releasedAt = wallNow();
    await holder.release();
    const lock = await waiting;
    const handoffMs = wallNow() - releasedAt;
    assert.ok(handoffMs < HOLDER_TTL / 3, `handed over on the release (${Math.round(handoffMs)} ms), not at the holder's expiry`);
    await lock.release();
  });
});
