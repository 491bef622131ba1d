import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lock } from 'nest-locker';
import { startLockerApp } from '../helpers/locker-app';
import { DRIVERS, useBackend } from './backends';
import { outcomeTable } from './outcome-table';

const record = outcomeTable('Key prefixes of two locker sections on one connection (accepted configs)');

/** Prefixes that may share a connection on each driver; nested ones on etcd/memory are refused (config.spec). */
const SIBLINGS = { memory: ['app/a/', 'app/b/'], redis: ['app:', 'app:x:'], etcd: ['app/a/', 'app/b/'] };

for (const driver of DRIVERS) {
  describe(`key prefixes on one ${driver} connection`, () => {
    const backend = useBackend(driver);
    const [first, second] = SIBLINGS[driver];

    it(`keeps keys of sections '${first}' and '${second}' apart, even where prefix + key spell the same string`, async () => {
      const app = await startLockerApp(backend.config({ locker: first, other: second }));
      try {
        // 'x:y' under 'app:' and 'y' under 'app:x:' concatenate alike: they must still be two locks.
        const suffix = second.slice(first.length);
        const takes: [string, string][] = [
          ['locker', `${suffix}y`],
          ['other', 'y'],
          ['locker', 'x'],
          ['other', 'x'],
        ];
        const locks = (await Promise.all(takes.map(([locker, key]) => app.service.tryAcquire(key, { locker, ttl: 10_000 })))) as Lock[];
        assert.deepEqual(
          locks.map((lock) => lock?.key),
          takes.map(([, key]) => key),
          'all four held at once',
        );
        const names = await backend.serverLocks(app);
        assert.equal(names.length, takes.length, JSON.stringify(names));
        takes.forEach(([locker, key]) => {
          const prefix = locker === 'locker' ? first : second;
          assert.equal(names.filter((name) => backend.names(name, prefix, key)).length, 1, `${prefix} ${key}`);
        });
        await Promise.all(locks.map((lock) => lock.release()));
        assert.deepEqual(await backend.serverLocks(app), []);
        record(
          takes.map(([locker, key]) => `${locker === 'locker' ? first : second}+${key}`).join(', '),
          driver,
          'all held at once: distinct locks ok',
        );
      } finally {
        await app.close();
      }
    });

    it('lets two sections with the same key_prefix share their locks, as one namespace', async () => {
      const app = await startLockerApp(backend.config({ locker: 'shared/', other: 'shared/' }));
      try {
        const lock = await app.service.acquire('k', { ttl: 10_000 });
        assert.equal(await app.service.tryAcquire('k', { locker: 'other' }), null);
        await lock.release();
        const other = await app.service.tryAcquire('k', { locker: 'other' });
        assert.ok(other);
        await other.release();
        assert.deepEqual(await backend.serverLocks(app), []);
        record("'shared/' in two sections, key 'k'", driver, 'one lock, shared as configured');
      } finally {
        await app.close();
      }
    });
  });
}
