import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, TestServer } from './harness/servers';
import { LockerApp, startLockerApp } from './helpers/locker-app';

/** What the redis server itself says about one app's connections and subscriptions. */
describe('redis waiters', () => {
  let server: TestServer;
  let inspector: Redis;
  let app: LockerApp;
  before(async () => {
    server = await startRedis();
    inspector = new Redis({ host: '127.0.0.1', port: server.port });
    app = await startLockerApp({ redis: { addr: server.addr }, locker: { driver: 'redis', driver_instance_id: 'redis' } });
  });
  after(async () => {
    await app?.close();
    inspector?.disconnect();
    await server?.stop();
  });

  const clients = async () =>
    String(await inspector.client('LIST'))
      .split('\n')
      .filter(Boolean).length - 1; // minus the inspector

  it('share one subscriber connection per driver instance, whatever the number of waiting keys and waiters', async () => {
    assert.equal(await clients(), 1, 'one command connection before anyone waits');
    const holders = await Promise.all(Array.from({ length: 5 }, (_, i) => app.service.acquire(`shared-sub-${i}`)));
    const waiters = Array.from({ length: 100 }, (_, i) => app.service.withLock(`shared-sub-${i % 5}`, async () => i, { waitTime: 20_000 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await clients(), 2, 'plus one shared subscriber');
    const channels = (await inspector.pubsub('CHANNELS', '*')) as string[];
    assert.equal(channels.length, 5, 'one channel per waited-on key');
    await Promise.all(holders.map((lock) => lock.release()));
    const served = await Promise.all(waiters);
    assert.equal(served.length, 100);
    assert.deepEqual(await inspector.pubsub('CHANNELS', '*'), [], 'no subscription left once nobody waits');
  });
});
