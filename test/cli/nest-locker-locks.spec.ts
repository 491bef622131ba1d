import assert from 'node:assert/strict';
import { ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startEtcd, startRedis, TestServer } from '../harness/servers';
import { startElectionWorker } from '../helpers/election-workers';
import { startHolder } from '../helpers/workers';

const BIN = resolve(__dirname, '..', '..', 'lib', 'cli', 'nest-locker.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built bin as a user would, in its own process. */
function nestLocker(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * `nest-locker locks` against a private redis and etcd, while other processes hold locks. The redis user
 * of the config has no @dangerous commands (no KEYS), as many production ACLs have it.
 */
describe('nest-locker locks (the bin)', () => {
  let redis: TestServer;
  let etcd: TestServer;
  let dir: string;
  let configFile: string;
  const holders: ChildProcess[] = [];
  const held: Record<string, { pid: number; token: bigint }> = {};

  const redisConfig = () => ({ redis: { addr: redis.addr }, locker: { driver: 'redis', driver_instance_id: 'redis' } });
  const etcdConfig = () => ({ etcd: { endpoints: [etcd.addr] }, locker: { driver: 'etcd', driver_instance_id: 'etcd' } });
  const hold = async (name: string, config: object, key: string) => {
    const { child, token } = await startHolder({ config, key, ttl: 60_000 });
    holders.push(child);
    held[name] = { pid: child.pid as number, token };
  };

  before(async () => {
    [redis, etcd] = await Promise.all([startRedis(), startEtcd()]);
    const admin = new Redis({ host: '127.0.0.1', port: redis.port });
    await admin.call('ACL', 'SETUSER', 'ops', 'on', '>ops-secret', '~*', '&*', '+@all', '-@dangerous');
    admin.disconnect();
    dir = mkdtempSync(join(tmpdir(), 'nest-locker-cli-'));
    configFile = join(dir, 'app.toml');
    writeFileSync(
      configFile,
      [
        '[redis]',
        `addr = "${redis.addr}"`,
        'username = "ops"',
        'auth = "ops-secret"',
        '[etcd]',
        `endpoints = ["${etcd.addr}"]`,
        '[locker]',
        'driver = "redis"',
        'driver_instance_id = "redis"',
        '[jobs]',
        'driver = "etcd"',
        'driver_instance_id = "etcd"',
        '',
      ].join('\n'),
    );
    await Promise.all([
      hold('redisReport', redisConfig(), 'report:daily'),
      hold('redisBilling', redisConfig(), 'billing:run'),
      hold('etcdReport', etcdConfig(), 'report:weekly'),
    ]);
  });
  after(async () => {
    for (const child of holders) child.kill('SIGKILL');
    await Promise.all([redis?.stop(), etcd?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the config user really has no @dangerous commands', async () => {
    const ops = new Redis({ host: '127.0.0.1', port: redis.port, username: 'ops', password: 'ops-secret' });
    try {
      await assert.rejects(ops.keys('*'), /NOPERM/);
    } finally {
      ops.disconnect();
    }
  });

  it('lists the locks of [locker] (redis) as a table: key, kind, holder host and pid, token, TTL left, waiting', async () => {
    const run = await nestLocker('locks', '--config', configFile);
    assert.equal(run.code, 0, run.stderr);
    const [header, ...rows] = run.stdout.trim().split('\n');
    assert.deepEqual(header.split(/\s{2,}/), ['KEY', 'KIND', 'HOST', 'PID', 'TOKEN', 'TTL LEFT', 'WAITING']);
    const cells = rows.map((row) => row.split(/\s{2,}/));
    assert.deepEqual(
      cells.map(([key, kind, host, pid, token, , waiting]) => [key, kind, host, Number(pid), token, waiting]),
      [
        ['billing:run', 'lock', hostname(), held.redisBilling.pid, String(held.redisBilling.token), '-'],
        ['report:daily', 'lock', hostname(), held.redisReport.pid, String(held.redisReport.token), '-'],
      ],
    );
    for (const [, , , , , ttl] of cells) {
      const seconds = Number(/^([\d.]+)s$/.exec(ttl)?.[1]);
      assert.ok(seconds > 0 && seconds <= 60, `TTL left ${ttl}`);
    }
  });

  it('--locker jobs --json lists the etcd locks as LockInfo objects, the token as a string', async () => {
    const run = await nestLocker('locks', '--config', configFile, '--locker', 'jobs', '--json');
    assert.equal(run.code, 0, run.stderr);
    const locks = JSON.parse(run.stdout) as {
      key: string;
      fencingToken: string;
      ttlLeftMs: number;
      holder: { id: string; host: string; pid: number };
      waiting: number;
    }[];
    assert.equal(locks.length, 1);
    const [lock] = locks;
    assert.equal(lock.key, 'report:weekly');
    assert.equal(lock.fencingToken, String(held.etcdReport.token));
    assert.deepEqual([lock.holder.host, lock.holder.pid], [hostname(), held.etcdReport.pid]);
    assert.equal(typeof lock.holder.id, 'string');
    assert.ok(lock.ttlLeftMs > 0 && lock.ttlLeftMs <= 60_000, `TTL left ${lock.ttlLeftMs}`);
    assert.equal(lock.waiting, 0);
  });

  it('--prefix lists only keys that start with it', async () => {
    const run = await nestLocker('locks', '--config', configFile, '--prefix', 'report:', '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      (JSON.parse(run.stdout) as { key: string }[]).map((lock) => lock.key),
      ['report:daily'],
    );
  });

  it('--help documents the command and exits 0', async () => {
    const run = await nestLocker('--help');
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^Usage: nest-locker locks --config <app\.toml> \[--locker <section>\] \[--prefix <p>\] \[--json\]/);
  });

  it('lists a leader with kind leader and what it proclaimed (a VALUE column, `value` in JSON)', async () => {
    const leader = await startElectionWorker({ mode: 'leader', config: redisConfig(), name: 'feed-owner', value: 'http://node-7:8080' });
    try {
      const { term } = await leader.next('elected', 10_000);
      const table = await nestLocker('locks', '--config', configFile, '--prefix', 'feed-owner');
      assert.equal(table.code, 0, table.stderr);
      const [header, row] = table.stdout.trim().split('\n');
      assert.deepEqual(header.split(/\s{2,}/), ['KEY', 'KIND', 'HOST', 'PID', 'TOKEN', 'TTL LEFT', 'WAITING', 'VALUE']);
      const [key, kind, , pid, token, , waiting, value] = row.split(/\s{2,}/);
      assert.deepEqual(
        [key, kind, Number(pid), token, waiting, value],
        ['feed-owner', 'leader', leader.pid, term, '-', '"http://node-7:8080"'],
      );
      const json = await nestLocker('locks', '--config', configFile, '--prefix', 'feed-owner', '--json');
      const [listed] = JSON.parse(json.stdout) as { kind: string; value?: string; fencingToken: string }[];
      assert.deepEqual([listed.kind, listed.value, listed.fencingToken], ['leader', 'http://node-7:8080', term]);
    } finally {
      await leader.stop(); // it resigns: the lock is gone for the tests after this one
    }
  });

  const usageErrors: [string, string[], RegExp][] = [
    ['a missing config file', ['locks', '--config', '/nonexistent/app.toml'], /cannot read the config file.*no such file/],
    [
      'an unknown section',
      ['locks', '--config', '<config>', '--locker', 'jbos'],
      /no locker section \[jbos\].*did you mean "jobs".*expected one of locker, jobs/,
    ],
    ['an unknown flag', ['locks', '--config', '<config>', '--verbose'], /Unknown option '--verbose'/],
    ['no command', ['--config', '<config>'], /expected the command "locks"/],
    ['no --config', ['locks'], /--config <app\.toml> is required/],
  ];
  for (const [what, args, message] of usageErrors) {
    it(`${what}: one clear line on stderr, nothing on stdout, exit code 2`, async () => {
      const run = await nestLocker(...args.map((arg) => (arg === '<config>' ? configFile : arg)));
      assert.equal(run.code, 2);
      assert.equal(run.stdout, '');
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0], /^nest-locker: /);
      assert.match(lines[0], message);
    });
  }
});
