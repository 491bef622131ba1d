import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startEtcd, startRedis, TestServer } from '../harness/servers';
import { startElectionWorker } from '../helpers/election-workers';
import { startHolder } from '../helpers/workers';

import { keysOf, nestLocker as runBin } from './run-bin';
import { freePort } from '../harness/free-port';

const nestLocker = (...args: string[]) => runBin(args);

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
    for (const flag of [
      '--redis <host:port>',
      '--etcd <endpoints>',
      '--user <name>',
      '-a, --pass <password>',
      '--tls',
      '--cacert <file>',
      '--sni <name>',
    ]) {
      assert.ok(run.stdout.includes(`\n  ${flag} `), `--help names ${flag}`);
    }
    for (const variable of ['REDISCLI_AUTH', 'ETCDCTL_USER', 'ETCDCTL_PASSWORD', 'ETCDCTL_CACERT', 'ETCDCTL_CERT', 'ETCDCTL_KEY']) {
      assert.ok(run.stdout.includes(variable), `--help names ${variable}`);
    }
    assert.match(run.stdout, /Exit codes: 0 listed; 1 the server failed: .*\n.*; 2 bad usage/);
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
    [
      'no --config, --redis or --etcd',
      ['locks'],
      /expected one of --config <app\.toml>, --redis <host:port> or --etcd <endpoints>, got none/,
    ],
    ['both --config and --redis', ['locks', '--config', '<config>', '--redis', '<redis>'], /expected one of .* got --config and --redis/],
    [
      '--user with --config',
      ['locks', '--config', '<config>', '--user', 'ops'],
      /--user goes with --redis or --etcd; with --config, the file's/,
    ],
    ['--locker with --redis', ['locks', '--redis', '<redis>', '--locker', 'jobs'], /--locker goes with --config/],
    [
      '--user without a password',
      ['locks', '--redis', '<redis>', '--user', 'ops'],
      /--user needs a password: -a\/--pass <password> or REDISCLI_AUTH/,
    ],
    ['an etcd --password without --user', ['locks', '--etcd', '<etcd>', '--password', 'x'], /--password needs --user/],
    [
      'an unreadable --cacert',
      ['locks', '--redis', '<redis>', '--cacert', '/nonexistent/ca.pem'],
      /^nest-locker: --cacert: \[redis\.tls\] ca_file: .*nonexistent/,
    ],
    ['a --redis that is no address', ['locks', '--redis', 'localhost'], /^nest-locker: --redis: \[redis\] addr: /],
    ['an empty --etcd endpoint', ['locks', '--etcd', '<etcd>,'], /--etcd expects host:port\[,host:port\.\.\.\]/],
  ];
  for (const [what, args, message] of usageErrors) {
    it(`${what}: one clear line on stderr, nothing on stdout, exit code 2`, async () => {
      const fill: Record<string, string> = { '<config>': configFile, '<redis>': redis.addr, '<etcd>': etcd.addr };
      const run = await nestLocker(...args.map((arg) => arg.replace(/<\w+>/, (name) => fill[name] ?? name)));
      assert.equal(run.code, 2);
      assert.equal(run.stdout, '');
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0], /^nest-locker: /);
      assert.match(lines[0], message);
    });
  }

  it('--redis with --user and -a lists what --config lists, as redis-cli takes them', async () => {
    const run = await nestLocker('locks', '--redis', redis.addr, '--user', 'ops', '-a', 'ops-secret', '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(keysOf(run), ['billing:run', 'report:daily']);
    const viaPass = await nestLocker(
      'locks',
      '--redis',
      redis.addr,
      '--user',
      'ops',
      '--pass',
      'ops-secret',
      '--prefix',
      'report:',
      '--json',
    );
    assert.deepEqual(keysOf(viaPass), ['report:daily']);
  });

  it('takes the redis password from REDISCLI_AUTH', async () => {
    const run = await runBin(['locks', '--redis', redis.addr, '--user', 'ops', '--json'], { REDISCLI_AUTH: 'ops-secret' });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(keysOf(run), ['billing:run', 'report:daily']);
  });

  it('--etcd takes comma-separated endpoints', async () => {
    const run = await nestLocker('locks', '--etcd', `${etcd.addr},http://${etcd.addr}`, '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(keysOf(run), ['report:weekly']);
  });

  it('--key-prefix lists the locks of apps with another key_prefix', async () => {
    const run = await nestLocker('locks', '--redis', redis.addr, '--user', 'ops', '-a', 'ops-secret', '--key-prefix', 'elsewhere:');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'No locks held in [locker].');
  });

  /** A server failure: one line on stderr naming what failed, nothing on stdout, exit code 1 (as --help says). */
  const assertServerFailure = (run: { code: number; stdout: string; stderr: string }, message: RegExp) => {
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], /^nest-locker: /);
    assert.match(lines[0], message);
  };

  it('a server that cannot be reached is exit code 1, from flags and from --config alike', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    assertServerFailure(await nestLocker('locks', '--redis', closed), new RegExp(closed));
    assertServerFailure(await nestLocker('locks', '--etcd', closed), new RegExp(closed));
    const file = join(dir, 'unreachable.toml');
    writeFileSync(file, `[redis]\naddr = "${closed}"\n[locker]\ndriver = "redis"\ndriver_instance_id = "redis"\n`);
    assertServerFailure(await nestLocker('locks', '--config', file), new RegExp(closed));
  });

  it('a password the server refuses is exit code 1', async () => {
    assertServerFailure(await nestLocker('locks', '--redis', redis.addr, '--user', 'ops', '-a', 'wrong'), /WRONGPASS|password/i);
  });
});
