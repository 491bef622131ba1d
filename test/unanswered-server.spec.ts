import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { LockerUnavailableError } from 'nest-locker';
import { DriverFixture, etcdFixture, redisFixture } from './conformance/driver-fixtures';
import { FaultProxy } from './harness/fault-proxy';
import { lockerConfig } from './faults/environments';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';

/**
 * A server that stops answering mid-call (a cut connection, an etcd election) must not stretch `waitTime`:
 * at its deadline the caller gets LockerUnavailableError (the server never said the lock is busy) while the
 * call still hangs, and whatever the call takes once the server answers again is given back.
 */
for (const [name, makeFixture] of [
  ['redis', redisFixture],
  ['etcd', etcdFixture],
] as const) {
  describe(`${name}: waitTime while the server does not answer`, () => {
    let fixture: DriverFixture;
    let proxy: FaultProxy;
    let app: LockerApp;
    before(async () => {
      fixture = await makeFixture();
      proxy = await FaultProxy.start(fixture.server!.port);
      const connection = name === 'redis' ? { addr: proxy.addr } : { endpoints: [proxy.addr] };
      app = await startLockerApp(lockerConfig(name, connection));
      await (await app.service.acquire('warm-up')).release(); // connected, streams open
    });
    after(async () => {
      await app?.close();
      await proxy?.close();
      await fixture?.close();
    });

    it('gives up on a hung call to a free key at its waitTime as unavailable, and releases what the call took once it is answered', async () => {
      proxy.set({ kind: 'cut' });
      const error = await app.service.acquire('free-key', { waitTime: 300 }).catch((caught: unknown) => caught);
      const stillCut = proxy.connectionCount > 0; // the timeout came while nothing got through
      proxy.set({ kind: 'pass' });
      assert.ok(error instanceof LockerUnavailableError, String(error));
      assert.equal(error.code, 'LOCKER_UNAVAILABLE');
      assert.equal(error.section, 'locker');
      assert.equal(error.driver, name);
      assert.ok(stillCut);
      const driver = app.driver(name);
      const state = await eventually(
        () => fixture.state('free-key', driver),
        (value) => value.entries === 0,
        10_000,
      );
      assert.equal(state.entries, 0, 'the late grant was given back');
      assert.equal(driver.heldLocks().length, 0);
      const lock = await app.service.tryAcquire('free-key');
      assert.ok(lock, 'free for the next caller');
      await lock.release();
    });
  });
}
