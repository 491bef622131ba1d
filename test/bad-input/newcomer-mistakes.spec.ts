import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  loadLockerConfig,
  LockBusyError,
  LockedInterval,
  LockerClosedError,
  LockerConfigError,
  LockerModule,
  LockerNotReadyError,
  LockerService,
  WithLock,
} from 'nest-locker';
import { SHUTDOWN_HOOKS_CHECK_MS } from '../../lib/shutdown-hooks.check';
import { configErrorOf } from './outcome-table';

const MEMORY = { locker: { driver: 'memory', driver_instance_id: 'memory' } };

function decorate(decorator: MethodDecorator): void {
  class Orders {
    async pay(): Promise<void> {}
  }
  decorator(Orders.prototype, 'pay', Object.getOwnPropertyDescriptor(Orders.prototype, 'pay') as PropertyDescriptor);
}

/** Mistakes a user coming from the Go locker (or new to Nest) makes; each is refused or reported plainly. */
describe('newcomer mistakes', () => {
  describe('a TTL in seconds (the Go locker’s WithTTL) is refused, naming milliseconds', () => {
    let app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>;
    before(async () => {
      app = await NestFactory.createApplicationContext(LockerModule.forRoot(MEMORY), { logger: false });
    });
    after(async () => app?.close());

    const GO_SECONDS =
      /10 ms is too short for a kept-alive lease \(renewed every 3 ms, it leaves 7 ms for a round trip and an event-loop stall\): ttl is in milliseconds \(the Go locker's WithTTL took seconds\); did you mean 10_000 \(10 s\)\? At least 300 ms, or 100 ms with keepAlive: false/;
    /** `ttl: 120`, two minutes in Go's seconds: as milliseconds, a lease renewed every 40 ms. */
    const TWO_MINUTES = /120 ms is too short for a kept-alive lease .*did you mean 120_000 \(120 s\)\?/;

    it('at acquire(), tryAcquire() and withLock(), before anything is taken', async () => {
      const service = app.get(LockerService);
      for (const [ttl, expected] of [
        [10, GO_SECONDS],
        [120, TWO_MINUTES],
      ] as const) {
        for (const call of [
          () => service.acquire('order', { ttl }),
          () => service.tryAcquire('order', { ttl }),
          () => service.withLock('order', async () => 'ran', { ttl }),
          () => service.acquire('order', { ttl, keepAlive: true }),
        ]) {
          const error = await configErrorOf(call);
          assert.equal(error.field, 'ttl');
          assert.match(error.message, expected);
        }
      }
      assert.equal((await service.tryAcquire('order'))?.held, true, 'nothing was left held by the refused calls');
    });

    it('at @WithLock and @LockedInterval definition, and at extend()', async () => {
      for (const ttl of [10, 120]) {
        for (const decorator of [WithLock('order', { ttl }), LockedInterval({ ttl })]) {
          const error = await configErrorOf(() => decorate(decorator));
          assert.match(error.message, ttl === 10 ? GO_SECONDS : TWO_MINUTES);
        }
      }
      const lock = await app.get(LockerService).acquire('extended');
      assert.match((await configErrorOf(() => lock.extend(10))).message, GO_SECONDS);
      assert.match((await configErrorOf(() => lock.extend(120))).message, TWO_MINUTES);
      assert.equal(lock.held, true);
    });

    it('takes the least kept-alive lease, 300 ms, and a 60-second one written in ms', async () => {
      const service = app.get(LockerService);
      assert.match(
        (await configErrorOf(() => service.acquire('short', { ttl: 299 }))).message,
        /299 ms is too short for a kept-alive lease .*At least 300 ms/,
      );
      for (const ttl of [300, 60_000]) {
        const lock = await service.acquire(`ttl-${ttl}`, { ttl });
        assert.equal(lock.held, true);
        await lock.release();
      }
    });

    it('without keep-alive, takes a fixed lease from 100 ms, and extends it to one as short', async () => {
      const service = app.get(LockerService);
      assert.match(
        (await configErrorOf(() => service.acquire('fixed', { ttl: 99, keepAlive: false }))).message,
        /99 ms is too short to be a lease: .*did you mean 99_000 \(99 s\)\? At least 100 ms$/,
      );
      const fixed = await service.acquire('fixed', { ttl: 120, keepAlive: false });
      assert.equal(fixed.held, true);
      await fixed.extend(100);
      assert.equal(fixed.held, true);
      await fixed.release();
      decorate(WithLock('fixed', { ttl: 120, keepAlive: false })); // throws if refused
    });
  });

  describe('a named placeholder in a @WithLock key is refused with the positional form', () => {
    for (const [key, positional] of [
      ['order:{id}', "'{0.id}' the id property of the first"],
      ['order:{order.id}', "'{0.id}' the id property of the first"],
      ['user:{ name }', "'{0.name}' the name property of the first"],
    ]) {
      it(`@WithLock('${key}')`, async () => {
        const error = await configErrorOf(() => decorate(WithLock(key)));
        assert.equal(error.field, 'key');
        assert.ok(error.message.startsWith('[@WithLock on Orders.pay] key: {'), error.message);
        assert.ok(
          error.message.includes(`in '${key}' names a parameter, but placeholders are positional: '{0}' is the first argument`),
          error.message,
        );
        assert.ok(error.message.includes(positional), error.message);
      });
    }

    it('positional templates and keys without braces are still taken', () => {
      for (const key of ['order:{0}', 'order:{0.id}', 'order:{1.user.id}', 'plain']) decorate(WithLock(key));
    });
  });

  it('errors show only the fields that apply (no `key: undefined`)', () => {
    const shown = [
      new LockerConfigError({ section: 'locker', field: 'driver', message: 'expected a driver name' }),
      new LockerConfigError({ message: 'expected an object of sections' }),
      new LockerClosedError(),
      new LockerNotReadyError('@WithLock on Orders.pay'),
      new LockBusyError('order:1'),
    ].map((error) => inspect(error));
    for (const text of shown) assert.doesNotMatch(text, /undefined/, text);
    assert.match(shown[0], /section: 'locker'/);
    assert.match(shown[0], /field: 'driver'/);
    assert.match(shown[2], /The locker is shutting down; it takes no new locks\./);
    assert.match(shown[4], /key: 'order:1'/);
  });

  describe('loadLockerConfig names the absolute path it tried', () => {
    let dir: string;
    let cwd: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'nest-locker-cwd-'));
      cwd = process.cwd();
      process.chdir(dir);
    });
    after(() => {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    });

    it('for a relative path, with the working directory it was resolved from', async () => {
      const error = await configErrorOf(() => loadLockerConfig('app.toml'));
      assert.equal(error.section, join(process.cwd(), 'app.toml'));
      assert.equal(
        error.message,
        `[${join(process.cwd(), 'app.toml')}]: cannot read the config file ('app.toml' from the working directory ${process.cwd()}): ` +
          'ENOENT: no such file or directory',
      );
    });
  });

  it('warns at bootstrap when nothing handles SIGTERM, and not when shutdown hooks are on', async () => {
    const boot = async (enableShutdownHooks: boolean): Promise<string[]> => {
      const warnings: string[] = [];
      const logger: LoggerService = { log() {}, error() {}, warn: (message: unknown) => void warnings.push(String(message)) };
      @Module({ imports: [LockerModule.forRoot(MEMORY)] })
      class AppModule {}
      const app = await NestFactory.createApplicationContext(AppModule, { logger });
      if (enableShutdownHooks) app.enableShutdownHooks();
      // A timer of the same delay, set after bootstrap's, fires after the check: its answer is in by then.
      await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_HOOKS_CHECK_MS));
      await app.close();
      return warnings;
    };
    assert.equal(process.listenerCount('SIGTERM'), 0, 'the test process itself does not handle SIGTERM');
    assert.deepEqual(await boot(true), []);
    const warnings = await boot(false);
    assert.equal(warnings.length, 1, String(warnings));
    assert.match(
      warnings[0],
      /Nothing handles SIGTERM, so on SIGTERM this process exits without releasing its locks.*app\.enableShutdownHooks\(\)/,
    );
  });
});
