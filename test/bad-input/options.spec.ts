import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Lock, LockedInterval, LockerConfigError, WithLock } from 'nest-locker';
import { LockerApp, startLockerApp } from '../helpers/locker-app';
import { DEFAULT_PREFIX, DRIVERS, useBackend } from './backends';
import { configErrorOf, errorOutcome, outcomeTable } from './outcome-table';

type EntryPoint = 'acquire' | 'tryAcquire' | 'withLock' | 'create().lock';
const ALL: EntryPoint[] = ['acquire', 'tryAcquire', 'withLock', 'create().lock'];

/** Bad options and the field their LockerConfigError must name; `only` when the others read them differently. */
type OptionRow = [label: string, options: unknown, field: string, message: RegExp, only?: EntryPoint[]];

const TTL = /expected a positive whole number of milliseconds up to 2147483647/;
const WAIT = /expected milliseconds from 0 to 2147483647/;
const UNKNOWN = /unknown option; expected one of ttl, keepAlive, waitTime, signal, fair, locker/;

const OPTION_ROWS: OptionRow[] = [
  ['ttl: 0', { ttl: 0 }, 'ttl', TTL],
  ['ttl: -1', { ttl: -1 }, 'ttl', TTL],
  ['ttl: 1.5', { ttl: 1.5 }, 'ttl', TTL],
  ['ttl: NaN', { ttl: NaN }, 'ttl', TTL],
  ['ttl: Infinity', { ttl: Infinity }, 'ttl', TTL],
  ["ttl: '100'", { ttl: '100' }, 'ttl', TTL],
  ['ttl: null', { ttl: null }, 'ttl', TTL],
  ['ttl: 2^31 (> 2^31-1)', { ttl: 2 ** 31 }, 'ttl', TTL],
  ['waitTime: -1', { waitTime: -1 }, 'waitTime', WAIT],
  ['waitTime: NaN', { waitTime: NaN }, 'waitTime', WAIT],
  ['waitTime: Infinity', { waitTime: Infinity }, 'waitTime', WAIT],
  ["waitTime: '5'", { waitTime: '5' }, 'waitTime', WAIT],
  ['signal: {}', { signal: {} }, 'signal', /expected an AbortSignal, got an object/],
  ["signal: 'abort'", { signal: 'abort' }, 'signal', /expected an AbortSignal, got "abort"/],
  ['signal: duck-typed', { signal: { aborted: false, addEventListener() {} } }, 'signal', /expected an AbortSignal/],
  ["fair: 'yes'", { fair: 'yes' }, 'fair', /expected a boolean, got "yes"/],
  ['fair: 1', { fair: 1 }, 'fair', /expected a boolean, got 1/],
  ["keepAlive: 'false'", { keepAlive: 'false' }, 'keepAlive', /expected a boolean, got "false"/],
  ['keepAlive: 0', { keepAlive: 0 }, 'keepAlive', /expected a boolean, got 0/],
  ['keepAlive: null', { keepAlive: null }, 'keepAlive', /expected a boolean, got null/],
  ['locker: 5', { locker: 5 }, 'locker', /expected a locker section name, got 5/, ['acquire', 'tryAcquire', 'withLock']],
  ["locker: ''", { locker: '' }, 'locker', /expected a locker section name, got ""/, ['acquire', 'tryAcquire', 'withLock']],
  [
    "locker: 'lockr' (no such section)",
    { locker: 'lockr' },
    'locker',
    /no locker section \[lockr\] in the config \(did you mean "locker"\?\)/,
    ['acquire', 'tryAcquire', 'withLock'],
  ],
  [
    "locker: 'other' at a Locker (it locks on create()'s section)",
    { locker: 'other' },
    'locker',
    /use create\('<section>'\)/,
    ['create().lock'],
  ],
  ["onBusy: 'bogus' (withLock)", { onBusy: 'bogus' }, 'onBusy', /expected 'wait', 'skip' or 'throw'/, ['withLock']],
  ['minHold: -5 (withLock)', { minHold: -5 }, 'minHold', WAIT, ['withLock']],
  ['tll: 100 (typo)', { tll: 100 }, 'tll', UNKNOWN],
  ['wait_time: 5', { wait_time: 5 }, 'wait_time', UNKNOWN],
  ["onBusy: 'skip' (a withLock option)", { onBusy: 'skip' }, 'onBusy', UNKNOWN, ['acquire', 'tryAcquire', 'create().lock']],
  ["options 'abc'", 'abc', 'options', /expected an object, got "abc"/],
  ['options [1]', [1], 'options', /expected an object, got an array/],
];

/** Keys thrown at the same service while it holds a lock (the full key table is keys.spec). */
const KEY_ROWS: [label: string, key: unknown][] = [
  ['key ""', ''],
  ['key 42', 42],
  ['key "\\uD800"', '\uD800'],
  ['key 1025 bytes', 'k'.repeat(1025)],
];

const HELD = 'held';
const record = outcomeTable('Options and keys thrown at a service that holds a lock');

function call(app: LockerApp, entry: EntryPoint, key: unknown, options: unknown): Promise<unknown> {
  const k = key as string;
  const o = options as object;
  if (entry === 'acquire') return app.service.acquire(k, o);
  if (entry === 'tryAcquire') return app.service.tryAcquire(k, o);
  if (entry === 'withLock') return app.service.withLock(k, async () => assert.fail('the body ran'), o);
  return app.service.create().lock(k, o);
}

for (const driver of DRIVERS) {
  describe(`bad options on ${driver}, with a lock held`, () => {
    const backend = useBackend(driver);
    let app: LockerApp;
    let held: Lock;
    before(async () => {
      app = await startLockerApp(backend.config());
      held = await app.service.acquire(HELD, { ttl: 3_000 });
    });
    after(() => app?.close());

    for (const [label, options, field, message, only = ALL] of OPTION_ROWS) {
      // A bad option that slipped through would wait on the held key: the timeout turns that hang into a failure.
      it(`refuses ${label} on the held key at ${only.join(', ')}, naming ${field}`, { timeout: 30_000 }, async () => {
        for (const entry of only) {
          const error = await configErrorOf(() => call(app, entry, HELD, options));
          assert.equal(error.field, field, entry);
          assert.match(error.message, message, entry);
          if (entry === 'tryAcquire') record(label, driver, errorOutcome(error));
        }
      });
    }

    for (const [label, key] of KEY_ROWS) {
      it(`refuses ${label} at every entry point`, async () => {
        for (const entry of ALL) assert.equal((await configErrorOf(() => call(app, entry, key, { ttl: 3_000 }))).field, 'key', entry);
        record(label, driver, 'LockerConfigError on key (see the key table)');
      });
    }

    for (const [label, ttl] of [
      ['0', 0],
      ['NaN', NaN],
      ["'100'", '100'],
    ] as const) {
      it(`refuses held.extend(${label}) and keeps the lock`, async () => {
        const error = await configErrorOf(() => held.extend(ttl as number));
        assert.equal(error.field, 'ttl');
        assert.match(error.message, /\[extend\(\)\] ttl: expected a positive whole number/);
        assert.ok(held.held);
        record(`held.extend(${label})`, driver, errorOutcome(error));
      });
    }

    it('answers null to tryAcquire on the held key even with waitTime 0 (one attempt never times out)', async () => {
      assert.equal(await app.service.tryAcquire(HELD, { waitTime: 0 }), null);
      record('tryAcquire(held, { waitTime: 0 })', driver, 'null');
    });

    it('rejects with the reason of an already-aborted signal, taking nothing and running no body', async () => {
      const reason = new Error('caller gave up');
      const signal = AbortSignal.abort(reason);
      for (const entry of ALL) {
        await assert.rejects(call(app, entry, 'free-key', { signal }), (error) => error === reason, entry);
        await assert.rejects(call(app, entry, HELD, { signal }), (error) => error === reason, entry);
      }
      assert.ok((await backend.serverLocks(app)).every((name) => !backend.names(name, DEFAULT_PREFIX[driver], 'free-key')));
      record('signal: already aborted', driver, "rejects with the signal's reason; nothing taken");
    });

    it('still holds the lock after all of it, on the server too, and releases it normally', async () => {
      assert.equal(held.held, true);
      assert.equal(held.signal.aborted, false);
      const names = await backend.serverLocks(app);
      assert.equal(names.length, 1, JSON.stringify(names));
      assert.ok(backend.names(names[0], DEFAULT_PREFIX[driver], HELD), names[0]);
      assert.equal(await app.service.tryAcquire(HELD), null, 'nobody else can take it');
      await held.release();
      assert.deepEqual(await backend.serverLocks(app), []);
      const next = await app.service.tryAcquire(HELD);
      assert.ok(next, 'free again once released');
      await next.release();
      record('(the held lock, after every row above)', driver, 'still held, on the server, released normally');
    });
  });
}

/** Decorator options are checked when the class is defined, before any lock is taken. */
describe('bad decorator options', () => {
  const decorate = (decorator: MethodDecorator): void => {
    class Target {
      async run(): Promise<void> {}
    }
    decorator(Target.prototype, 'run', Object.getOwnPropertyDescriptor(Target.prototype, 'run') as PropertyDescriptor);
  };
  const rows: [label: string, decorator: () => MethodDecorator, field: string | undefined, message: RegExp][] = [
    ["@WithLock('k', { ttl: 0 })", () => WithLock('k', { ttl: 0 }), 'ttl', TTL],
    ["@WithLock('k', { ttl: 1.5 })", () => WithLock('k', { ttl: 1.5 }), 'ttl', TTL],
    ["@WithLock('k', { ttl: '100' })", () => WithLock('k', { ttl: '100' as never }), 'ttl', TTL],
    ["@WithLock('k', { waitTime: -1 })", () => WithLock('k', { waitTime: -1 }), 'waitTime', WAIT],
    ["@WithLock('k', { signal: {} })", () => WithLock('k', { signal: {} as never }), 'signal', /expected an AbortSignal/],
    ["@WithLock('k', { fair: 'yes' })", () => WithLock('k', { fair: 'yes' as never }), 'fair', /expected a boolean/],
    ["@WithLock('k', { keepAlive: 1 })", () => WithLock('k', { keepAlive: 1 as never }), 'keepAlive', /expected a boolean/],
    ["@WithLock('k', { tll: 5 })", () => WithLock('k', { tll: 5 } as never), 'tll', UNKNOWN],
    [
      "@WithLock('k', { onBusy: 'later' })",
      () => WithLock('k', { onBusy: 'later' as never }),
      'onBusy',
      /expected 'wait', 'skip' or 'throw'/,
    ],
    ["@WithLock('k', { minHold: -1 })", () => WithLock('k', { minHold: -1 }), 'minHold', WAIT],
    ["@WithLock('')", () => WithLock(''), 'key', /expected a non-empty string, a template/],
    ['@WithLock(42)', () => WithLock(42 as never), 'key', /got 42/],
    ['@LockedInterval(-1)', () => LockedInterval(-1), 'interval', WAIT],
    ['@LockedInterval(NaN)', () => LockedInterval(NaN), 'interval', WAIT],
    ["@LockedInterval('5s')", () => LockedInterval('5s' as never), undefined, /expected an interval in ms or an options object, got "5s"/],
    ['@LockedInterval({ ttl: 0 })', () => LockedInterval({ ttl: 0 }), 'ttl', TTL],
    ['@LockedInterval({ ttl: 2^31 })', () => LockedInterval({ ttl: 2 ** 31 }), 'ttl', TTL],
    ['@LockedInterval({ lockRetryInterval: -1 })', () => LockedInterval({ lockRetryInterval: -1 }), 'lockRetryInterval', WAIT],
    ["@LockedInterval({ key: '' })", () => LockedInterval({ key: '' }), 'key', /expected a non-empty string/],
    ["@LockedInterval({ key: '\\uD800' })", () => LockedInterval({ key: '\uD800' }), 'key', /lone surrogate/],
    ['@LockedInterval({ locker: 5 })', () => LockedInterval({ locker: 5 as never }), 'locker', /expected a non-empty string/],
    ['@LockedInterval({ every: 5 })', () => LockedInterval({ every: 5 } as never), 'every', /unknown option/],
  ];
  for (const [label, decorator, field, message] of rows) {
    it(`refuses ${label} at class definition`, async () => {
      const error = await configErrorOf(() => decorate(decorator()));
      assert.ok(error instanceof LockerConfigError);
      assert.equal(error.field, field);
      assert.match(error.message, message);
      assert.match(error.message, /^\[@(WithLock|LockedInterval) on Target\.run\]/);
      record(label, '-', errorOutcome(error));
    });
  }
});

/** An operator's call names a section and a kind; options of how a lock is taken are refused, not ignored. */
describe('inspect() and forceRelease() take only locker and kind', () => {
  let app: LockerApp;
  before(async () => {
    app = await startLockerApp({ locker: { driver: 'memory', driver_instance_id: 'memory' } });
  });
  after(async () => await app?.close());

  const rows: [label: string, options: unknown, field: string, message: RegExp][] = [
    ['{ waitTime: 5, fair: true }', { waitTime: 5, fair: true }, 'waitTime', /unknown option; expected one of locker, kind/],
    ['{ ttl: 5 }', { ttl: 5 }, 'ttl', /unknown option; expected one of locker, kind/],
    ['{ keepAlive: false }', { keepAlive: false }, 'keepAlive', /unknown option/],
    ["{ kind: 'mutex' }", { kind: 'mutex' }, 'kind', /expected one of lock, permit, read, write, leader, got "mutex"/],
    ['{ locker: 5 }', { locker: 5 }, 'locker', /expected a locker section name, got 5/],
  ];
  for (const [label, options, field, message] of rows) {
    for (const method of ['inspect', 'forceRelease'] as const) {
      it(`refuses ${method}('k', ${label}), naming ${field}`, async () => {
        const error = await configErrorOf(() => app.service[method]('k', options as never));
        assert.ok(error instanceof LockerConfigError, `${method} rejects with LockerConfigError, got ${String(error)}`);
        assert.equal(error.field, field);
        assert.match(error.message, message);
      });
    }
  }

  it('answers with locker and kind given', async () => {
    assert.equal(await app.service.inspect('k', { locker: 'locker', kind: 'permit' }), null);
    assert.equal(await app.service.forceRelease('k', { kind: 'write' }), false);
  });
});
