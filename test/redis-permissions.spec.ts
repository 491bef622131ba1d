import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { LockerConfig } from 'nest-locker';
import { configErrorOf } from './bad-input/outcome-table';
import { FaultProxy } from './harness/fault-proxy';
import { documentedAclRules, documentedUserArgs, loginAs } from './harness/redis-acl';
import { startRedis, TestServer } from './harness/servers';
import { assertHandsOver, refusedAtBootstrap } from './helpers/bootstrap-checks';
import { startLockerApp } from './helpers/locker-app';
import { warnedWhile } from './helpers/logged-warnings';
import { eventually } from './helpers/wait';

/**
 * Commands of the documented ACL line whose refusal breaks locks: bootstrap must fail, naming the one missing.
 * HGET runs only when a release grants the lock to a queued waiter: it shows the check takes that path too.
 * EXISTS is the lean path's (a release that looks for waiters).
 */
const NEEDED = ['time', 'del', 'publish', 'pexpire', 'pttl', 'rpush', 'evalsha', 'eval', 'ping', 'hget', 'exists'];
/** Commands whose refusal only costs waiters speed: bootstrap goes on, with a warning that says so. */
const DEGRADING: Record<string, RegExp> = {
  subscribe: /waiters are not told when a lock is released/,
  unsubscribe: /stays subscribed/,
};

const without = (command: string): string => `without-${command}`;
/** The documented user, under `name`, less `command` (none: all of it). */
const userArgs = (name: string, command?: string): string[] => documentedUserArgs(name, command);

const COMMAND_TIMEOUT = 1000;
/** Beyond its deadline, what bootstrap may take on a busy 2-core machine (timers late, connecting). */
const SLACK_MS = 1500;

/**
 * Bootstrap checks the permissions locks need, as the least-privilege ACL user of docs/production.md less one
 * command: a missing one fails bootstrap with a LockerConfigError naming the command, the field and the rule
 * to add; one whose refusal only degrades is a warning. Nothing of the check stays on the server. A
 * permission taken away after bootstrap is named the same way at first use.
 */
describe('redis permissions: checked at bootstrap, named at first use', () => {
  let server: TestServer;
  let inspector: Redis;
  const config = (user: string, extra: Record<string, unknown> = {}): LockerConfig => ({
    redis: { addr: server.addr, ...loginAs(user), ...extra },
    locker: { driver: 'redis', driver_instance_id: 'redis' },
  });
  /** Client connections on the server but the inspector's. */
  const connectionCount = async () =>
    String(await inspector.client('LIST'))
      .trim()
      .split('\n').length - 1;
  /** The probe's keys, and every client connection on the server but the inspector's, once the probe's QUITs have landed. */
  const leftOnServer = async () => {
    const read = async () => ({ keys: await inspector.keys('*nest-locker-probe*'), connections: await connectionCount() });
    return eventually(read, (left) => left.keys.length === 0 && left.connections === 0);
  };
  /** ioredis options that log in as `user`. */
  const loginOptions = (user: string) => ({ username: user, password: loginAs(user).auth, enableReadyCheck: false });

  before(async () => {
    const missing = [...NEEDED, ...Object.keys(DEGRADING)];
    const users = [userArgs('documented'), userArgs('changing'), ...missing.map((command) => userArgs(without(command), command))];
    server = await startRedis({ args: users.flat() });
    inspector = new Redis({ host: '127.0.0.1', port: server.port });
  });
  after(async () => {
    inspector?.disconnect();
    await server?.stop();
  });

  it('the documented user boots without a warning, and the check leaves no key and no connection behind', async () => {
    const [app, warnings] = await warnedWhile(() => startLockerApp(config('documented')));
    try {
      assert.deepEqual(warnings, []);
      assert.deepEqual(await inspector.keys('*'), [], 'no key left');
      const connections = await eventually(connectionCount, (count) => count === 1);
      assert.equal(connections, 1, 'only the command connection: the probe closed its subscribers');
    } finally {
      await app.close();
    }
    assert.deepEqual(await leftOnServer(), { keys: [], connections: 0 });
  });

  for (const command of NEEDED) {
    it(`without +${command}: bootstrap fails with a LockerConfigError naming ${command.toUpperCase()} and the rule +${command}; nothing stays`, async () => {
      const error = await refusedAtBootstrap(config(without(command)));
      assert.equal(error.section, 'redis');
      assert.equal(error.field, 'username');
      assert.match(error.message, new RegExp(`may not run ${command.toUpperCase()}\\b`));
      assert.match(error.message, new RegExp(`ACL SETUSER ${without(command)} \\+${command}\\)`));
      assert.ok(error.cause instanceof Error, "the server's own error is the cause");
      assert.deepEqual(await leftOnServer(), { keys: [], connections: 0 });
    });
  }

  for (const [command, consequence] of Object.entries(DEGRADING)) {
    it(`without +${command}: the app boots with a warning naming ${command.toUpperCase()}, +${command} and what it costs; locks still change hands`, async () => {
      const [app, warnings] = await warnedWhile(() => startLockerApp(config(without(command))));
      await app.close();
      const named = warnings.filter((warning) => warning.includes(`may not run ${command.toUpperCase()},`));
      assert.equal(named.length, 1, warnings.join('\n'));
      assert.match(named[0], /^\[redis\] username: /);
      assert.match(named[0], consequence);
      assert.match(named[0], new RegExp(`\\+${command} to its ACL rules`));
      await assertHandsOver(config(without(command)));
      assert.deepEqual(await leftOnServer(), { keys: [], connections: 0 });
    });
  }

  it("checks each locker section's key_prefix: one outside the user's key pattern fails, naming the pattern to add", async () => {
    const error = await refusedAtBootstrap({
      ...config('documented'),
      jobs: { driver: 'redis', driver_instance_id: 'redis', key_prefix: 'jobs:' },
    });
    assert.equal(error.field, 'username');
    assert.match(error.message, /may not use the keys under key_prefix "jobs:"/);
    assert.match(error.message, /ACL SETUSER documented ~jobs:\*\)/);
  });

  it("checks an app's own client too, naming the client field", async () => {
    const client = new Redis({ host: '127.0.0.1', port: server.port, ...loginOptions(without('del')) });
    try {
      await client.ping();
      const error = await configErrorOf(() =>
        startLockerApp({ redis: { client }, locker: { driver: 'redis', driver_instance_id: 'redis' } }),
      );
      assert.equal(error.field, 'client');
      assert.match(error.message, /may not run DEL\b/);
      assert.equal(client.status, 'ready', "the app's client stays open");
    } finally {
      client.disconnect();
    }
  });

  it('a permission taken away after bootstrap: tryAcquire, a waiting acquire and extend reject with a LockerConfigError naming it', async () => {
    const app = await startLockerApp(config('changing'));
    // the held lock is another app's: a waiter of the holder's own process waits for its release here, not on the server
    const other = await startLockerApp(config('documented'));
    const setUser = (...rules: string[]) => inspector.call('ACL', 'SETUSER', 'changing', ...rules);
    try {
      const busy = await other.service.acquire('first-use');
      const held = await app.service.acquire('first-use-held');
      await setUser('-time');
      const tried = await configErrorOf(() => app.service.tryAcquire('first-use-other'));
      assert.match(tried.message, /may not run TIME\b.*\+time/);
      assert.equal(tried.field, 'username');
      await setUser('+time', '-rpush');
      const waited = await configErrorOf(() => app.service.acquire('first-use', { waitTime: 10_000 }));
      assert.match(waited.message, /may not run RPUSH\b/, 'at once, not at the end of waitTime');
      await setUser('+rpush', '-pexpire');
      const extended = await configErrorOf(() => held.extend());
      assert.match(extended.message, /may not run PEXPIRE\b/);
      await setUser('+pexpire');
      await held.release();
      await busy.release();
    } finally {
      await setUser(...documentedAclRules());
      await app.close();
      await other.close();
    }
  });

  it('a release the server refused is not sent again at the next reconnect (only one that got no answer is)', async () => {
    const app = await startLockerApp(config('changing'));
    const setUser = (...rules: string[]) => inspector.call('ACL', 'SETUSER', 'changing', ...rules);
    const scriptCalls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(String(await inspector.info('commandstats')))?.[1] ?? 0);
    const REFUSED = 20;
    try {
      const locks = await Promise.all(Array.from({ length: REFUSED }, (_, i) => app.service.acquire(`refused-release-${i}`)));
      await setUser('-del');
      for (const lock of locks) await assert.rejects(lock.release(), /may not run DEL\b/);
      await setUser(...documentedAclRules());
      const before = await scriptCalls();
      await inspector.call('CLIENT', 'KILL', 'USER', 'changing'); // the app reconnects
      await (await app.service.acquire('after-reconnect')).release(); // answered once it is back
      const sent = (await scriptCalls()) - before;
      assert.ok(sent < REFUSED, `${sent} scripts ran after the reconnect: the refused releases were sent again`);
    } finally {
      await setUser(...documentedAclRules());
      await app.close();
    }
  });

  it('a check that gets no answer holds bootstrap up by command_timeout at most, and says it could not check', async () => {
    const proxy = await FaultProxy.start(server.port);
    const client = new Redis({ host: '127.0.0.1', port: proxy.port, ...loginOptions('documented'), commandTimeout: COMMAND_TIMEOUT });
    client.on('error', () => undefined);
    try {
      await client.ping();
      proxy.refuseNewConnections(true); // the probe's subscriber connections never get through
      const started = Date.now();
      const [app, warnings] = await warnedWhile(() =>
        startLockerApp({ redis: { client }, locker: { driver: 'redis', driver_instance_id: 'redis' } }),
      );
      const took = Date.now() - started;
      await app.close();
      assert.ok(took < COMMAND_TIMEOUT + SLACK_MS, `bootstrap took ${took} ms`);
      assert.ok(
        warnings.some((warning) => /the redis permissions for key_prefix "nest-locker:" could not be checked/.test(warning)),
        warnings.join('\n'),
      );
    } finally {
      client.disconnect();
      await proxy.close();
    }
    assert.deepEqual((await leftOnServer()).keys, []);
  });
});
