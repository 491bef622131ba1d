import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lock } from 'nest-locker';
import { LockerApp, startLockerApp } from '../helpers/locker-app';
import { DEFAULT_PREFIX, DRIVERS, useBackend } from './backends';
import { configErrorOf, errorOutcome, outcomeTable } from './outcome-table';

/** A key either gets a LockerConfigError on `key` matching the pattern, or is a lock of its own. */
type KeyRow = [label: string, key: unknown, expected: RegExp | 'distinct lock'];

const KEY_ROWS: KeyRow[] = [
  ['"" (empty)', '', /\[\w+\(\)\] key: expected a non-empty string, got ""/],
  ['42 (number)', 42, /key: expected a non-empty string, got 42/],
  ['null', null, /key: expected a non-empty string, got null/],
  ['undefined', undefined, /key: expected a non-empty string, got undefined/],
  ["Buffer.from('a')", Buffer.from('a'), /key: expected a non-empty string, got an object/],
  ['object with toString', { toString: () => 'a' }, /key: expected a non-empty string, got an object/],
  ['1024 × "x" (1024 bytes)', 'x'.repeat(1024), 'distinct lock'],
  ['1025 × "x" (1025 bytes)', 'x'.repeat(1025), /key: expected at most 1024 bytes, got 1025/],
  ['341 × "€" + "a" (1024 bytes)', `${'€'.repeat(341)}a`, 'distinct lock'],
  ['342 × "€" (1026 bytes)', '€'.repeat(342), /key: expected at most 1024 bytes, got 1026/],
  ['256 × "😀" (1024 bytes)', '😀'.repeat(256), 'distinct lock'],
  ['"a" + 256 × "😀" (1025 bytes)', `a${'😀'.repeat(256)}`, /key: expected at most 1024 bytes, got 1025/],
  ['"\\0"', '\0', 'distinct lock'],
  ['"\\x01\\x1b[31m\\x7f" (control chars)', '\x01\x1b[31m\x7f', 'distinct lock'],
  ['"\\uFFFF"', '\uFFFF', 'distinct lock'],
  ['" " (one space)', ' ', 'distinct lock'],
  ['"👩‍💻" (emoji ZWJ sequence)', '👩‍💻', 'distinct lock'],
  ['"e\\u0301" (combining mark)', 'e\u0301', 'distinct lock'],
  ['"שלום\\u202Eabc" (RTL + override)', 'שלום\u202Eabc', 'distinct lock'],
  ['"\\uD800" (lone high surrogate)', '\uD800', /key: expected well-formed Unicode, got "\\ud800" with a lone surrogate/],
  ['"\\uDC00" (lone low surrogate)', '\uDC00', /key: expected well-formed Unicode, got "\\udc00" with a lone surrogate/],
  ['"a\\uDE00\\uD83D" (pair reversed)', 'a\uDE00\uD83D', /key: expected well-formed Unicode/],
  ['"a/b"', 'a/b', 'distinct lock'],
  ['"a:b"', 'a:b', 'distinct lock'],
  ['"{a}"', '{a}', 'distinct lock'],
  ['"}{"', '}{', 'distinct lock'],
  ['"%"', '%', 'distinct lock'],
  ['"%2F"', '%2F', 'distinct lock'],
  ['"%7B"', '%7B', 'distinct lock'],
  ['"a%2Fb"', 'a%2Fb', 'distinct lock'],
  ['"a{b}"', 'a{b}', 'distinct lock'],
];

/** Keys that an escaping or separator bug would map onto one another: all must be held at once. */
const LOOK_ALIKE_KEYS = ['a/b', 'a%2Fb', 'a{b}', 'a%7Bb%7D', 'a:b', 'a%3Ab', '{a}b', 'a}b{', 'a%b', 'a%25b', 'é', 'e\u0301'];

/** A key as a JS literal with everything outside printable ASCII escaped, so look-alikes read apart. */
const literal = (key: string): string =>
  `"${key.replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;

const record = outcomeTable('Keys (tryAcquire, acquire, withLock, create().lock)');

for (const driver of DRIVERS) {
  describe(`bad keys on ${driver}`, () => {
    const backend = useBackend(driver);
    let app: LockerApp;
    before(async () => (app = await startLockerApp(backend.config())));
    after(() => app?.close());

    for (const [label, key, expected] of KEY_ROWS) {
      if (expected === 'distinct lock') {
        it(`takes ${label} as a lock of its own, visible on the server, and leaves nothing after release`, async () => {
          const lock = await app.service.tryAcquire(key as string, { ttl: 10_000 });
          assert.ok(lock, 'the key was free');
          assert.equal(lock.key, key);
          const names = await backend.serverLocks(app);
          assert.equal(names.length, 1, `one lock on the server, saw ${JSON.stringify(names)}`);
          assert.ok(backend.names(names[0], DEFAULT_PREFIX[driver], key as string), `${JSON.stringify(names[0])} is the lock of the key`);
          assert.equal(await app.service.tryAcquire(key as string), null, 'a second taker is refused');
          await lock.release();
          assert.deepEqual(await backend.serverLocks(app), []);
          record(label, driver, 'distinct lock ok');
        });
      } else {
        it(`refuses ${label} at every entry point with a LockerConfigError on key, taking nothing`, async () => {
          const attempts: [string, () => Promise<unknown>][] = [
            ['tryAcquire', () => app.service.tryAcquire(key as string)],
            ['acquire', () => app.service.acquire(key as string)],
            ['withLock', () => app.service.withLock(key as string, async () => assert.fail('the body ran'))],
            ['create().lock', () => app.service.create().lock(key as string)],
          ];
          for (const [entry, attempt] of attempts) {
            const error = await configErrorOf(attempt);
            assert.equal(error.field, 'key', entry);
            assert.match(error.message, expected, entry);
            if (entry === 'tryAcquire') record(label, driver, errorOutcome(error));
          }
          assert.deepEqual(await backend.serverLocks(app), []);
        });
      }
    }

    it('holds every look-alike key at once, as distinct locks, and leaves nothing after release', async () => {
      const locks = (await Promise.all(LOOK_ALIKE_KEYS.map((key) => app.service.tryAcquire(key, { ttl: 10_000 })))) as Lock[];
      assert.deepEqual(
        locks.map((lock) => lock?.key),
        LOOK_ALIKE_KEYS,
      );
      const names = await backend.serverLocks(app);
      assert.equal(names.length, LOOK_ALIKE_KEYS.length, `one server lock each, saw ${JSON.stringify(names)}`);
      for (const key of LOOK_ALIKE_KEYS) {
        assert.equal(names.filter((name) => backend.names(name, DEFAULT_PREFIX[driver], key)).length, 1, key);
      }
      await Promise.all(locks.map((lock) => lock.release()));
      assert.deepEqual(await backend.serverLocks(app), []);
      record(LOOK_ALIKE_KEYS.map(literal).join(' '), driver, 'all held at once: distinct locks ok');
    });
  });
}
