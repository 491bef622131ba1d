import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LockerConfig } from 'nest-locker';
import { SERVER_NAME, useTlsServers } from './harness/tls-certs';
import { startEtcd } from './harness/servers';
import { assertHandsOver, refusedAtBootstrap } from './helpers/bootstrap-checks';
import { itNamesEachTlsMistake } from './helpers/tls-mistakes';

/** The etcd driver against etcd serving https with `--client-cert-auth`, with certificates made by openssl. */
describe('etcd driver over TLS', () => {
  const servers = useTlsServers((tls) => startEtcd(tls));
  const config = (etcd: Record<string, unknown>): LockerConfig => ({ etcd, locker: { driver: 'etcd', driver_instance_id: 'etcd' } });
  const clientTls = () => servers.certs.clientTable;

  it('locks, waits and hands over between two apps over mutual TLS (https:// endpoints)', async () => {
    await assertHandsOver(config({ endpoints: [`https://${servers.mutual.addr}`], tls: clientTls() }));
  });

  it('takes bare host:port endpoints as https with tls, and verifies server_name', async () => {
    await assertHandsOver(config({ endpoints: [servers.mutual.addr], tls: { ...clientTls(), server_name: SERVER_NAME } }));
  });

  it('refuses a server whose certificate another CA signed, naming [etcd.tls] ca_file', async () => {
    const error = await refusedAtBootstrap(config({ endpoints: [servers.foreign.addr], tls: clientTls(), connect_timeout: 3000 }));
    assert.equal(error.section, 'etcd.tls');
    assert.equal(error.field, 'ca_file');
    assert.ok(error.message.includes(servers.foreign.addr), error.message);
  });

  it('refuses an address the certificate does not name, naming [etcd.tls] server_name', async () => {
    const error = await refusedAtBootstrap(
      config({ endpoints: [servers.mutual.addr], tls: { ...clientTls(), server_name: 'elsewhere.test' }, connect_timeout: 3000 }),
    );
    assert.equal(error.section, 'etcd.tls');
    assert.equal(error.field, 'server_name');
    assert.match(error.message, /elsewhere\.test/);
  });

  it('refuses tls = true (the system CAs) against the test CA, naming [etcd] tls', async () => {
    const error = await refusedAtBootstrap(config({ endpoints: [`https://${servers.mutual.addr}`], tls: true, connect_timeout: 3000 }));
    assert.equal(error.section, 'etcd');
    assert.equal(error.field, 'tls');
  });

  it('is refused by a server that demands a client certificate when none is given', async () => {
    const error = await refusedAtBootstrap(
      config({ endpoints: [servers.mutual.addr], tls: { ca_file: servers.certs.ca }, connect_timeout: 3000 }),
    );
    assert.equal(error.section, 'etcd.tls');
    assert.equal(error.field, 'cert_file');
  });

  it('names a TLS file that cannot be read, with its path, before connecting', async () => {
    const missing = join(servers.certs.dir, 'no-such-key.pem');
    const error = await refusedAtBootstrap(config({ endpoints: [servers.mutual.addr], tls: { ...clientTls(), key_file: missing } }));
    assert.equal(error.section, 'etcd.tls');
    assert.equal(error.field, 'key_file');
    assert.ok(error.message.includes(missing), error.message);
  });

  itNamesEachTlsMistake('etcd', servers);
});
