import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ETCD_PASSWORD, ETCD_USER, enableEtcdAuth } from '../harness/etcd-auth';
import { startEtcd, startRedis, TestServer } from '../harness/servers';
import { makeTestCerts, SERVER_NAME, TestCerts } from '../harness/tls-certs';
import { startHolder } from '../helpers/workers';
import { keysOf, nestLocker } from './run-bin';

/**
 * `nest-locker locks --redis` / `--etcd` with the login and TLS flags and environment variables of redis-cli
 * and etcdctl, against servers that demand them: a redis speaking only mutual TLS, an etcd with auth on, and
 * an etcd speaking only mutual TLS. Each has one lock held by another process.
 */
describe('nest-locker locks --redis / --etcd with auth and TLS', () => {
  let certs: TestCerts;
  let tlsRedis: TestServer;
  let authEtcd: TestServer;
  let tlsEtcd: TestServer;
  const holders: ChildProcess[] = [];
  const hold = async (config: object, key: string) => holders.push((await startHolder({ config, key, ttl: 60_000 })).child);
  const locker = (driver: string) => ({ driver, driver_instance_id: driver });

  before(async () => {
    certs = makeTestCerts();
    [tlsRedis, authEtcd, tlsEtcd] = await Promise.all([
      startRedis({ tls: certs.mutualServer }),
      startEtcd(),
      startEtcd(certs.mutualServer),
    ]);
    await enableEtcdAuth(authEtcd.addr);
    await Promise.all([
      hold({ redis: { addr: tlsRedis.addr, tls: certs.clientTable }, locker: locker('redis') }, 'over-tls'),
      hold({ etcd: { endpoints: [authEtcd.addr], username: ETCD_USER, password: ETCD_PASSWORD }, locker: locker('etcd') }, 'as-user'),
      hold({ etcd: { endpoints: [tlsEtcd.addr], tls: certs.clientTable }, locker: locker('etcd') }, 'etcd-over-tls'),
    ]);
  });
  after(async () => {
    for (const child of holders) child.kill('SIGKILL');
    await Promise.all([tlsRedis?.stop(), authEtcd?.stop(), tlsEtcd?.stop()]);
    certs?.remove();
  });

  const listed = async (args: string[], env?: Record<string, string>): Promise<string[]> => {
    const run = await nestLocker(['locks', ...args, '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    return keysOf(run);
  };
  const failed = async (args: string[], message: RegExp, env?: Record<string, string>): Promise<void> => {
    const run = await nestLocker(['locks', ...args], env);
    assert.equal(run.code, 1, `exit code 1 (the server refused), got ${run.code}: ${run.stderr}`);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, message);
  };

  it('redis over mutual TLS: --cacert, --cert, --key and --sni', async () => {
    const { ca_file, cert_file, key_file } = certs.clientTable;
    const files = ['--cacert', ca_file, '--cert', cert_file, '--key', key_file];
    assert.deepEqual(await listed(['--redis', tlsRedis.addr, '--tls', ...files]), ['over-tls']);
    assert.deepEqual(await listed(['--redis', tlsRedis.addr, ...files, '--sni', SERVER_NAME]), ['over-tls']);
  });

  it('redis over TLS: the system CAs (--tls alone), no client certificate, or no TLS at all are exit code 1', async () => {
    await failed(['--redis', tlsRedis.addr, '--tls'], /^nest-locker: \[redis\] tls: /);
    await failed(['--redis', tlsRedis.addr, '--cacert', certs.clientTable.ca_file], /^nest-locker: \[redis\.tls\]/);
    await failed(['--redis', tlsRedis.addr], /^nest-locker: \[redis\] /);
  });

  it('etcd with auth: --user <name>:<password>, --user with --password, or ETCDCTL_USER and ETCDCTL_PASSWORD', async () => {
    assert.deepEqual(await listed(['--etcd', authEtcd.addr, '--user', `${ETCD_USER}:${ETCD_PASSWORD}`]), ['as-user']);
    assert.deepEqual(await listed(['--etcd', authEtcd.addr, '--user', ETCD_USER, '--password', ETCD_PASSWORD]), ['as-user']);
    assert.deepEqual(await listed(['--etcd', authEtcd.addr], { ETCDCTL_USER: ETCD_USER, ETCDCTL_PASSWORD: ETCD_PASSWORD }), ['as-user']);
    assert.deepEqual(await listed(['--etcd', authEtcd.addr], { ETCDCTL_USER: `${ETCD_USER}:${ETCD_PASSWORD}` }), ['as-user']);
  });

  it('etcd with auth: a wrong password, or none, is exit code 1', async () => {
    await failed(['--etcd', authEtcd.addr, '--user', `${ETCD_USER}:wrong`], /^nest-locker: .*(authentication failed|invalid)/i);
    await failed(['--etcd', authEtcd.addr], /^nest-locker: /);
  });

  it('etcd over mutual TLS: --cacert, --cert and --key, or ETCDCTL_CACERT, ETCDCTL_CERT and ETCDCTL_KEY', async () => {
    const { ca_file, cert_file, key_file } = certs.clientTable;
    assert.deepEqual(await listed(['--etcd', tlsEtcd.addr, '--cacert', ca_file, '--cert', cert_file, '--key', key_file]), [
      'etcd-over-tls',
    ]);
    const env = { ETCDCTL_CACERT: ca_file, ETCDCTL_CERT: cert_file, ETCDCTL_KEY: key_file };
    assert.deepEqual(await listed(['--etcd', tlsEtcd.addr], env), ['etcd-over-tls']);
  });
});
