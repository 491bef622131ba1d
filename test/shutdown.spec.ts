import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { filter, firstValueFrom } from 'rxjs';
import { LockerConfig, LockerModule, LockerService, WithLock } from 'nest-locker';
import { DriverFixture, etcdFixture, redisFixture } from './conformance/driver-fixtures';
import { FaultProxy } from './harness/fault-proxy';
import { lockerConfig } from './faults/environments';
import { LockerApp, startLockerApp } from './helpers/locker-app';

const MIN_HOLD = 3000;
/** What the README promises app.close() takes beyond shutdownTimeout when a server does not answer. */
const SHUTDOWN_BOUND_MS = 4000;

@Injectable()
class Tick {
  @WithLock('tick', { onBusy: 'skip', minHold: MIN_HOLD })
  async run(): Promise<string> {
    return 'ran';
  }
}

async function startTickApp(config: LockerConfig) {
  @Module({ imports: [LockerModule.forRoot(config)], providers: [Tick] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}

for (const [name, makeFixture] of [
  ['redis', redisFixture],
  ['etcd', etcdFixture],
] as const) {
  describe(`${name}: shutdown`, () => {
    let fixture: DriverFixture;
    before(async () => (fixture = await makeFixture()));
    after(async () => fixture?.close());

    it('leaves a lock inside its minHold to expire when the minHold ends (a rolling deploy does not run the tick twice)', async () => {
      const appA = await startTickApp(fixture.config());
      let appB: LockerApp | undefined;
      try {
        const acquired = firstValueFrom(appA.get(LockerService).events.pipe(filter((event) => event.type === 'acquired')));
        assert.equal(await appA.get(Tick).run(), 'ran');
        const acquiredAt = (await acquired, performance.now()); // the grant was seen no later than this
        appB = await startLockerApp(fixture.config()); // the next node of the rolling deploy
        await appA.close();
        assert.equal(
          await appB.service.tryAcquire('tick'),
          null,
          "still held once app A's close returned: not released, and close did not wait for the minHold",
        );
        const lock = await appB.service.acquire('tick', { waitTime: MIN_HOLD + 5000 });
        const heldFor = performance.now() - acquiredAt;
        await lock.release();
        // timer granularity: the server counts whole ms
        assert.ok(heldFor >= MIN_HOLD - 5, `the next node took the lock ${Math.round(heldFor)} ms after the tick's acquisition`);
      } finally {
        await appA.close();
        await appB?.close();
      }
    });

    it('app.close() settles within shutdownTimeout plus the documented bound while the server does not answer', async () => {
      const proxy = await FaultProxy.start(fixture.server!.port);
      const connection = name === 'redis' ? { addr: proxy.addr } : { endpoints: [proxy.addr] };
      const shutdownTimeout = 500;
      const app = await startLockerApp(lockerConfig(name, connection), { shutdownTimeout });
      try {
        const lock = await app.service.acquire('silent', { ttl: 10_000 });
        const body = app.service.withLock('silent-body', async () => 'done');
        assert.equal(await body, 'done');
        assert.ok(lock.held);
        proxy.set({ kind: 'cut' });
        const started = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const closed = await Promise.race([
          app.close().then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), shutdownTimeout + SHUTDOWN_BOUND_MS + 3000))),
        ]);
        clearTimeout(timer);
        assert.ok(closed, `app.close() had not returned after ${Math.round(performance.now() - started)} ms`);
      } finally {
        proxy.set({ kind: 'pass' }); // let what was held back through, so the connections can end
        await app.close();
        await proxy.close();
      }
    });
  });
}

describe('shutdown with one server silent and another healthy', () => {
  it("releases the healthy server's locks at once, even while a wait on the silent one is in flight", async () => {
    const [redis, etcd] = await Promise.all([redisFixture(), etcdFixture()]);
    const proxy = await FaultProxy.start(etcd.server!.port);
    const config: LockerConfig = {
      redis: { addr: redis.server!.addr },
      etcd: { endpoints: [proxy.addr] },
      locker: { driver: 'redis', driver_instance_id: 'redis' },
      settings: { driver: 'etcd', driver_instance_id: 'etcd' },
    };
    const [app, next] = [await startLockerApp(config), await startLockerApp(config)];
    try {
      const held = await app.service.acquire('report');
      const other = await next.service.acquire('on-etcd', { locker: 'settings' });
      const waiting = app.service.acquire('on-etcd', { locker: 'settings' }).catch((error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 200)); // its txns are on the wire
      proxy.set({ kind: 'cut' }); // etcd goes silent with the wait in flight
      const closing = app.close();
      // the next node gets the redis lock as soon as app A let it go: long before the etcd calls time out
      const taken = await next.service.acquire('report', { waitTime: 3000 });
      assert.ok(taken.fencingToken > held.fencingToken);
      await taken.release();
      await closing;
      await waiting;
      proxy.set({ kind: 'pass' });
      await other.release();
    } finally {
      proxy.set({ kind: 'pass' });
      await Promise.all([app.close(), next.close()]);
      await proxy.close();
      await Promise.all([redis.close(), etcd.close()]);
    }
  });
});

describe('a programmatically closed app', () => {
  it('lets its process exit while a lock is inside its minHold', async () => {
    const child = spawn(process.execPath, [join(__dirname, 'src', 'min-hold-exit.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      once(child, 'exit').then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 20_000))),
    ]);
    clearTimeout(timer);
    if (!exited) child.kill('SIGKILL');
    assert.equal(out.trim(), 'closed');
    assert.ok(exited, 'the process was still alive 20 s after app.close() (its minHold is 60 s)');
  });
});
