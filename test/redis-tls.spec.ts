import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LockerConfig, loadLockerConfig } from 'nest-locker';
import { makeTestCerts, SERVER_NAME, TestCerts, useTlsServers } from './harness/tls-certs';
import { clusterKeySlot } from '../lib/drivers/redis/redis-cluster-slot';
import { RedisCluster, startRedisCluster } from './harness/redis-cluster';
import { startRedis } from './harness/servers';
import { startLockerApp } from './helpers/locker-app';
import { assertHandsOver, refusedAtBootstrap } from './helpers/bootstrap-checks';
import { itNamesEachTlsMistake } from './helpers/tls-mistakes';

/** The redis driver against redis-server speaking only TLS (`--tls-port`, `--port 0`), with certificates made by openssl. */
describe('redis driver over TLS', () => {
  const servers = useTlsServers((tls) => startRedis({ tls }));
  const config = (redis: Record<string, unknown>): LockerConfig => ({ redis, locker: { driver: 'redis', driver_instance_id: 'redis' } });
  const clientTls = () => servers.certs.clientTable;

  it('locks, waits and hands over between two apps over mutual TLS', async () => {
    await assertHandsOver(config({ addr: servers.mutual.addr, tls: clientTls() }));
  });

  it('reads a [redis.tls] table from app.toml', async () => {
    const file = join(servers.certs.dir, 'app.toml');
    writeFileSync(
      file,
      [
        '[redis]',
        `addr = "${servers.mutual.addr}"`,
        'auth = ""', // a seed's empty string: not set
        '[redis.tls]',
        ...Object.entries(servers.certs.clientTable).map(([field, path]) => `${field} = "${path}"`),
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
    const error = await refusedAtBootstrap(config({ addr: servers.foreign.addr, tls: clientTls(), connect_timeout: 3000 }));
    assert.equal(error.section, 'redis.tls');
    assert.equal(error.field, 'ca_file');
    assert.match(error.message, /not signed by a CA we trust/);
  });

  it('refuses tls = true (the system CAs) against the test CA, naming [redis] tls', async () => {
    const error = await refusedAtBootstrap(config({ addr: servers.mutual.addr, tls: true, connect_timeout: 3000 }));
    assert.equal(error.section, 'redis');
    assert.equal(error.field, 'tls');
  });

  it('refuses an address the certificate does not name, naming [redis.tls] server_name', async () => {
    const error = await refusedAtBootstrap(
      config({ addr: servers.mutual.addr, tls: { ...clientTls(), server_name: 'elsewhere.test' }, connect_timeout: 3000 }),
    );
    assert.equal(error.section, 'redis.tls');
    assert.equal(error.field, 'server_name');
    assert.match(error.message, /elsewhere\.test/);
  });

  it('is refused by a server that demands a client certificate when none is given, naming [redis.tls] cert_file', async () => {
    const error = await refusedAtBootstrap(
      config({ addr: servers.mutual.addr, tls: { ca_file: servers.certs.ca }, connect_timeout: 3000 }),
    );
    assert.equal(error.section, 'redis.tls');
    assert.equal(error.field, 'cert_file');
    assert.ok(error.message.includes(servers.mutual.addr), error.message);
  });

  it('names a TLS file that cannot be read, with its path, before connecting', async () => {
    const missing = join(servers.certs.dir, 'no-such-ca.pem');
    const error = await refusedAtBootstrap(config({ addr: servers.mutual.addr, tls: { ...clientTls(), ca_file: missing } }));
    assert.equal(error.section, 'redis.tls');
    assert.equal(error.field, 'ca_file');
    assert.ok(error.message.includes(missing), error.message);
  });

  itNamesEachTlsMistake('redis', servers);
});

describe('redis driver on a Redis Cluster over TLS', () => {
  let certs: TestCerts;
  let cluster: RedisCluster;
  before(async () => {
    certs = makeTestCerts();
    cluster = await startRedisCluster(3, certs.mutualServer);
  });
  after(async () => {
    await cluster?.stop();
    certs?.remove();
  });

  it('locks, waits and hands over with mutual TLS on a node it discovered from one seed (tls flows to every node)', async () => {
    const tls = certs.clientTable;
    // the harness gives the last master the highest slots; the seed is the first one
    let n = 0;
    while (clusterKeySlot(`nest-locker:{tls-${n}}`) < 11_000) n++;
    await assertHandsOver(
      { redis: { cluster: [cluster.addrs[0]], tls }, locker: { driver: 'redis', driver_instance_id: 'redis' } },
      `tls-${n}`,
    );
  });
});
