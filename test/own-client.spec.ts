import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Etcd3 } from 'etcd3';
import { Cluster, Redis } from 'ioredis';
import { LockerConfigError, LockerModule, LockerService } from 'nest-locker';
import { RedisCluster, startRedisCluster } from './harness/redis-cluster';
import { startEtcd, startRedis, TestServer } from './harness/servers';
import { assertHandsOverBetween } from './helpers/bootstrap-checks';
import { eventually } from './helpers/wait';

const CLIENT = Symbol('the app’s own client');

/** An app whose own client module provides CLIENT, and LockerModule built from it with forRootAsync. */
async function startAppWithClient(driver: 'redis' | 'etcd', client: unknown) {
  const clientModule = { module: class AppClientModule {}, providers: [{ provide: CLIENT, useValue: client }], exports: [CLIENT] };
  const moduleRef = await Test.createTestingModule({
    imports: [
      LockerModule.forRootAsync({
        imports: [clientModule],
        inject: [CLIENT],
        useFactory: (own: unknown) => ({ [driver]: { client: own }, locker: { driver, driver_instance_id: driver } }),
      }),
    ],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return { service: moduleRef.get(LockerService), close: () => moduleRef.close() };
}

/** The number of client connections the server has now. */
const connectionsOn = async (inspector: Redis): Promise<number> =>
  String(await inspector.client('LIST'))
    .trim()
    .split('\n').length;

describe("the app's own redis client", () => {
  let server: TestServer;
  let inspector: Redis;
  before(async () => {
    server = await startRedis();
    inspector = new Redis({ host: '127.0.0.1', port: server.port });
  });
  after(async () => {
    inspector?.disconnect();
    await server?.stop();
  });

  it('warns at bootstrap when the client has no commandTimeout (its calls have no deadline), and not when it has one', async () => {
    const warnings: string[] = [];
    // records what the driver logs (the Nest logger itself is silenced in these apps)
    const recording = mock.method(Logger.prototype, 'warn', (message: unknown) => void warnings.push(String(message)));
    const [bare, bounded] = [
      new Redis({ host: '127.0.0.1', port: server.port }),
      new Redis({ host: '127.0.0.1', port: server.port, commandTimeout: 2000 }),
    ];
    try {
      await (await startAppWithClient('redis', bare)).close();
      assert.equal(warnings.filter((message) => /no commandTimeout/.test(message)).length, 1, warnings.join('\n'));
      assert.match(warnings.find((message) => /no commandTimeout/.test(message)) as string, /\[redis\] client/);
      await (await startAppWithClient('redis', bounded)).close();
      assert.equal(warnings.filter((message) => /no commandTimeout/.test(message)).length, 1, 'none for a client with one');
    } finally {
      recording.mock.restore();
      bare.disconnect();
      bounded.disconnect();
    }
  });

  it('keeps no listener of a closed app on the client: apps made and closed around one client leave it as it was', async () => {
    const client = new Redis({ host: '127.0.0.1', port: server.port, commandTimeout: 2000 });
    try {
      await client.ping();
      const before = client.eventNames().map((event) => `${String(event)}:${client.listenerCount(event)}`);
      for (let i = 0; i < 12; i++) await (await startAppWithClient('redis', client)).close();
      assert.deepEqual(
        client.eventNames().map((event) => `${String(event)}:${client.listenerCount(event)}`),
        before,
      );
    } finally {
      client.disconnect();
    }
  });

  it('is used as given from an injected provider, never closed; the subscriber it adds is closed with the app', async () => {
    const client = new Redis({ host: '127.0.0.1', port: server.port });
    try {
      await client.ping();
      const before = await connectionsOn(inspector);
      const [app, other] = [await startAppWithClient('redis', client), await startAppWithClient('redis', client)];
      const key = `own-client-${process.pid}`;
      const held = await app.service.acquire(key);
      assert.equal(await other.service.tryAcquire(key), null);
      const waiting = other.service.acquire(key, { waitTime: 10_000 }); // opens the subscriber (a duplicate)
      assert.ok(
        await eventually(
          () => connectionsOn(inspector),
          (count) => count > before,
        ),
        'a subscriber connection was opened',
      );
      await held.release();
      const next = await waiting;
      assert.ok(next.fencingToken > held.fencingToken);
      await next.release();
      await Promise.all([app.close(), other.close()]);
      assert.equal(client.status, 'ready', 'the app’s client stays open');
      assert.equal(await client.ping(), 'PONG');
      assert.equal(
        await eventually(
          () => connectionsOn(inspector),
          (count) => count === before,
        ),
        before,
        'only what nest-locker added was closed',
      );
    } finally {
      client.disconnect();
    }
  });

  it('refuses a client that was closed, naming [redis] client', async () => {
    const client = new Redis({ host: '127.0.0.1', port: server.port });
    await client.ping();
    await client.quit();
    await eventually(
      () => Promise.resolve(client.status),
      (status) => status === 'end',
    );
    await assert.rejects(startAppWithClient('redis', client), (error: unknown) => {
      assert.ok(error instanceof LockerConfigError, String(error));
      assert.equal(error.section, 'redis');
      assert.equal(error.field, 'client');
      assert.match(error.message, /status is "end"/);
      return true;
    });
  });

  it('refuses an ioredis client in an etcd section, naming [etcd] client', async () => {
    const client = new Redis({ host: '127.0.0.1', port: server.port });
    try {
      await assert.rejects(startAppWithClient('etcd', client), (error: unknown) => {
        assert.ok(error instanceof LockerConfigError, String(error));
        assert.equal(error.section, 'etcd');
        assert.equal(error.field, 'client');
        assert.match(error.message, /expected an etcd3 Etcd3 client for the "etcd" driver, got an ioredis client/);
        return true;
      });
      assert.equal(await client.ping(), 'PONG', 'and leaves it alone');
    } finally {
      client.disconnect();
    }
  });
});

describe("the app's own ioredis Cluster", () => {
  let cluster: RedisCluster;
  before(async () => (cluster = await startRedisCluster(3)));
  after(async () => cluster?.stop());

  it('is used as given and left open; a waiter hears the release through the subscriber it adds (long before the 60 s TTL)', async () => {
    const client = new Cluster(cluster.addrs.map((addr) => ({ host: '127.0.0.1', port: Number(addr.split(':')[1]) })));
    try {
      await client.ping();
      await assertHandsOverBetween(() => startAppWithClient('redis', client));
      assert.equal(client.status, 'ready', 'the app’s cluster client stays open');
      assert.equal(await client.set(`own-cluster-${process.pid}`, '1'), 'OK');
    } finally {
      client.disconnect();
    }
  });
});

describe("the app's own etcd3 client", () => {
  let server: TestServer;
  before(async () => (server = await startEtcd()));
  after(async () => server?.stop());

  it('is used as given from an injected provider and never closed', async () => {
    const client = new Etcd3({ hosts: `http://${server.addr}` });
    try {
      await assertHandsOverBetween(() => startAppWithClient('etcd', client));
      await client.put('still-open').value('yes');
      assert.equal(await client.get('still-open').string(), 'yes', 'the app’s client still works');
    } finally {
      client.close();
    }
  });

  it('refuses a closed client at bootstrap, naming [etcd] client', async () => {
    const client = new Etcd3({ hosts: `http://${server.addr}` });
    client.close();
    await assert.rejects(startAppWithClient('etcd', client), (error: unknown) => {
      assert.ok(error instanceof LockerConfigError, String(error));
      assert.equal(error.section, 'etcd');
      assert.equal(error.field, 'client');
      return true;
    });
  });
});
