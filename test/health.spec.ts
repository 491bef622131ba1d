import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LockerHealth } from 'nest-locker';
import { DriverFixture, etcdFixture, redisFixture } from './conformance/driver-fixtures';
import { lockerConfig } from './faults/environments';
import { FaultProxy } from './harness/fault-proxy';
import { LockerApp, startLockerApp } from './helpers/locker-app';
import { eventually } from './helpers/wait';
import { settleWithin } from '../lib/utils/settle-within';
import { HEALTH_TIMEOUT_MS } from '../lib/locker.constants';

/** Beyond the health deadline, what the answer may take on a busy 2-core machine. */
const SLACK_MS = 1500;

// etcd keeps its default command_timeout (5 s): health() must answer by its own deadline (3 s) all the same.
const backends = [
  { name: 'redis', start: redisFixture, connection: (addr: string) => ({ addr, command_timeout: 1000 }) },
  { name: 'etcd', start: etcdFixture, connection: (addr: string) => ({ endpoints: [addr] }) },
] as const;

for (const backend of backends) {
  describe(`health() on ${backend.name}, through a fault proxy`, () => {
    let fixture: DriverFixture;
    let proxy: FaultProxy;
    let app: LockerApp;

    before(async () => {
      fixture = await backend.start();
      proxy = await FaultProxy.start(fixture.server!.port);
      app = await startLockerApp(lockerConfig(backend.name, backend.connection(proxy.addr)));
    });
    after(async () => {
      proxy?.set({ kind: 'pass' });
      await app?.close();
      await proxy?.close();
      await fixture?.close();
    });

    it('is up, with the round trip and the locks held here', async () => {
      const locks = await Promise.all(['health-a', 'health-b'].map((key) => app.service.acquire(key)));
      const health = await app.service.health();
      assert.equal(health.status, 'up');
      const driver = health.drivers[backend.name];
      assert.equal(driver.status, 'up');
      assert.equal(driver.driver, backend.name);
      assert.equal(driver.heldLocks, 2);
      assert.equal(typeof driver.latencyMs, 'number');
      assert.equal(driver.error, undefined);
      await Promise.all(locks.map((lock) => lock.release()));
      assert.equal((await app.service.health()).drivers[backend.name].heldLocks, 0);
    });

    it('is down within a few seconds while the server does not answer, with the error; up again after', async () => {
      proxy.set({ kind: 'cut' });
      let health: LockerHealth | undefined;
      const checking = app.service.health().then((answer) => (health = answer));
      const settled = await settleWithin(checking, HEALTH_TIMEOUT_MS + SLACK_MS);
      proxy.set({ kind: 'pass' });
      assert.ok(settled, `health() answered within ${HEALTH_TIMEOUT_MS + SLACK_MS} ms`);
      assert.equal(health?.status, 'down');
      const driver = health?.drivers[backend.name];
      assert.equal(driver?.status, 'down');
      assert.equal(driver?.latencyMs, undefined);
      assert.match(driver?.error ?? '', /.+/);
      const healed = await eventually(
        () => app.service.health(),
        (answer) => answer.status === 'up',
        15_000,
      );
      assert.equal(healed.status, 'up');
    });
  });
}
