import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LockerConfig, loadLockerConfig } from 'nest-locker';
import { makeTestCerts, SERVER_NAME, TestCerts } from './harness/tls-certs';
import { clusterKeySlot } from '../lib/drivers/redis/redis-cluster-slot';
import { RedisCluster, startRedisCluster } from './harness/redis-cluster';
import { startRedis, TestServer } from './harness/servers';
import { startLockerApp } from './helpers/locker-app';
import { assertHandsOver, refusedAtBootstrap } from './helpers/bootstrap-checks';

/** The redis driver against redis-server speaking only TLS (`--tls-port`, `--port 0`), with certificates made by openssl. */
describe('redis driver over TLS', () => {
  let certs: TestCerts;
  let mutual: TestServer; // demands a client certificate signed by the test CA
  let foreign: TestServer; // its certificate is signed by another CA
  const config = (redis: Record<string, unknown>): LockerConfig => ({ redis, locker: { driver: 'redis', driver_instance_id: 'redis' } });
  const clientTls = () => ({ ca_file: certs.ca, cert_file: certs.clientCert, key_file: certs.clientKey });

  before(async () => {
    certs = makeTestCerts();
    [mutual, foreign] = await Promise.all([
      startRedis({ tls: { cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca } }),
      startRedis({ tls: { cert: certs.otherServerCert, key: certs.otherServerKey } }),
    ]);
  });
  after(async () => {
    await Promise.all([mutual?.stop(), foreign?.stop()]);
    certs?.remove();
  });

  it('locks, waits and hands over between two apps over mutual TLS', async () => {
    await assertHandsOver(config({ addr: mutual.addr, tls: clientTls() }));
  });

  it('reads a [redis.tls] table from app.toml', async () => {
    const file = join(certs.dir, 'app.toml');
    writeFileSync(
      file,
      [
        '[redis]',
        `addr = "${mutual.addr}"`,
        'auth = ""', // a seed's empty string: not set
        '[redis.tls]',
        `ca_file = "${certs.ca}"`,
        `cert_file = "${certs.clientCert}"`,
        `key_file = "${certs.clientKey}"`,
        `server_name = "${SERVER_NAME}"`,
        '[locker]',
        'driver = "redis"',
        'driver_instance_id = "redis"',
        '',
      ].join('\n'),
    );
    const app = await startLockerApp(loadLockerConfig(file));
    try {
      const lock = await app.service.acquire(`toml-${process.pid}`);
      assert.equal(await app.service.tryAcquire(lock.key), null);
      await lock.release();
    } finally {
      await app.close();
    }
  });

  it('refuses a server whose certificate another CA signed, naming [redis.tls] ca_file', async () => {
    const error = await refusedAtBootstrap(config({ addr: foreign.addr, tls: clientTls(), connect_timeout: 3000 }));
    assert.equal(error.section, 'redis.tls');
    assert.equal(error.field, 'ca_file');
    assert.match(error.message, /not signed by a CA we trust/);
  });

  it('refuses tls = true (the system CAs) against the test CA, naming [redis] tls', async () => {
    const error = await refusedAtBootstrap(config({ addr: mutual.addr, tls: true, connect_timeout: 3000 }));
    assert.equal(error.section, 'redis');
    assert.equal(error.field, 'tls');
  });

  it('refuses an address the certificate does not name, naming [redis.tls] server_name', async () => {
    const error = await refusedAtBootstrap(
      config({ addr: mutual.addr, tls: { ...clientTls(), server_name: 'elsewhere.test' }, connect_timeout: 3000 }),
    );
    assert.equal(error.section, 'redis.tls');
    assert.equal(error.field, 'server_name');
    assert.match(error.message, /elsewhere\.test/);
  });

  it('is refused by a server that demands a client certificate when none is given, naming [redis.tls] cert_file', async () => {
    const error = await refusedAtBootstrap(config({ addr: mutual.addr, tls: { ca_file: certs.ca }, connect_timeout: 3000 }));
    assert.equal(error.section, 'redis.tls');
    assert.equal(error.field, 'cert_file');
    assert.ok(error.message.includes(mutual.addr), error.message);
  });

  it('names a TLS file that cannot be read, with its path, before connecting', async () => {
    const missing = join(certs.dir, 'no-such-ca.pem');
    const error = await refusedAtBootstrap(config({ addr: mutual.addr, tls: { ...clientTls(), ca_file: missing } }));
    assert.equal(error.section, 'redis.tls');
    assert.equal(error.field, 'ca_file');
    assert.ok(error.message.includes(missing), error.message);
  });
});

describe('redis driver on a Redis Cluster over TLS', () => {
  let certs: TestCerts;
  let cluster: RedisCluster;
  before(async () => {
    certs = makeTestCerts();
    cluster = await startRedisCluster(3, { cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca });
  });
  after(async () => {
    await cluster?.stop();
    certs?.remove();
  });

  it('locks, waits and hands over with mutual TLS on a node it discovered from one seed (tls flows to every node)', async () => {
    const tls = { ca_file: certs.ca, cert_file: certs.clientCert, key_file: certs.clientKey };
    // the harness gives the last master the highest slots; the seed is the first one
    let n = 0;
    while (clusterKeySlot(`nest-locker:{tls-${n}}`) < 11_000) n++;
    await assertHandsOver(
      { redis: { cluster: [cluster.addrs[0]], tls }, locker: { driver: 'redis', driver_instance_id: 'redis' } },
      `tls-${n}`,
    );
  });
});
