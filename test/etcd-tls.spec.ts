import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LockerConfig } from 'nest-locker';
import { makeTestCerts, SERVER_NAME, TestCerts } from './harness/tls-certs';
import { startEtcd, TestServer } from './harness/servers';
import { assertHandsOver, refusedAtBootstrap } from './helpers/bootstrap-checks';

/** The etcd driver against etcd serving https with `--client-cert-auth`, with certificates made by openssl. */
describe('etcd driver over TLS', () => {
  let certs: TestCerts;
  let mutual: TestServer; // demands a client certificate signed by the test CA
  let foreign: TestServer; // its certificate is signed by another CA
  const config = (etcd: Record<string, unknown>): LockerConfig => ({ etcd, locker: { driver: 'etcd', driver_instance_id: 'etcd' } });
  const clientTls = () => ({ ca_file: certs.ca, cert_file: certs.clientCert, key_file: certs.clientKey });

  before(async () => {
    certs = makeTestCerts();
    [mutual, foreign] = await Promise.all([
      startEtcd({ cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca }),
      startEtcd({ cert: certs.otherServerCert, key: certs.otherServerKey }),
    ]);
  });
  after(async () => {
    await Promise.all([mutual?.stop(), foreign?.stop()]);
    certs?.remove();
  });

  it('locks, waits and hands over between two apps over mutual TLS (https:// endpoints)', async () => {
    await assertHandsOver(config({ endpoints: [`https://${mutual.addr}`], tls: clientTls() }));
  });

  it('takes bare host:port endpoints as https with tls, and verifies server_name', async () => {
    await assertHandsOver(config({ endpoints: [mutual.addr], tls: { ...clientTls(), server_name: SERVER_NAME } }));
  });

  it('refuses a server whose certificate another CA signed, naming [etcd.tls] ca_file', async () => {
    const error = await refusedAtBootstrap(config({ endpoints: [foreign.addr], tls: clientTls(), connect_timeout: 3000 }));
    assert.equal(error.section, 'etcd.tls');
    assert.equal(error.field, 'ca_file');
    assert.ok(error.message.includes(foreign.addr), error.message);
  });

  it('is refused by a server that demands a client certificate when none is given', async () => {
    const error = await refusedAtBootstrap(config({ endpoints: [mutual.addr], tls: { ca_file: certs.ca }, connect_timeout: 3000 }));
    assert.equal(error.section, 'etcd.tls');
    assert.equal(error.field, 'cert_file');
  });

  it('names a TLS file that cannot be read, with its path, before connecting', async () => {
    const missing = join(certs.dir, 'no-such-key.pem');
    const error = await refusedAtBootstrap(config({ endpoints: [mutual.addr], tls: { ...clientTls(), key_file: missing } }));
    assert.equal(error.section, 'etcd.tls');
    assert.equal(error.field, 'key_file');
    assert.ok(error.message.includes(missing), error.message);
  });
});
