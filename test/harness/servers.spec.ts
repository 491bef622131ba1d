import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { redisCommand, waitUntil } from './redis-command';
import { startRedis } from './servers';

describe('private servers', () => {
  it('a redis-server made a replica leaves nothing in the directory the tests run in', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'nest-locker-run-dir-'));
    const testsDir = process.cwd();
    process.chdir(runDir); // the servers start here, as from the repository's root in a run
    const [master, replica] = await Promise.all([startRedis({ args: ['--repl-diskless-sync-delay', '0'] }), startRedis()]).finally(() =>
      process.chdir(testsDir),
    );
    try {
      await redisCommand(master.port, 'SET', 'k', 'v');
      await redisCommand(replica.port, 'REPLICAOF', '127.0.0.1', master.port);
      await waitUntil('the replica is in sync', async () => (await redisCommand(replica.port, 'GET', 'k')) === 'v');
      assert.deepEqual(readdirSync(runDir), []);
    } finally {
      await Promise.all([master.stop(), replica.stop()]);
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
