import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { LockerConfig } from 'nest-locker';
import type { TlsServers } from '../harness/tls-certs';
import { refusedAtBootstrap } from './bootstrap-checks';

/** A connection section of `driver` to `addr`, with `tls` when given. */
export function tlsSection(driver: 'redis' | 'etcd', addr: string, tls?: unknown): LockerConfig {
  const connection = { ...(driver === 'redis' ? { addr } : { endpoints: [addr] }), connect_timeout: 3000, ...(tls ? { tls } : {}) };
  return { [driver]: connection, locker: { driver, driver_instance_id: driver } };
}

/**
 * In the calling suite: each TLS mistake fails the bootstrap with a LockerConfigError that names the
 * field to fix (or the server, when no field can) and says what to do, not a neighbour's field or a bare
 * "no answer" / ECONNRESET.
 */
export function itNamesEachTlsMistake(driver: 'redis' | 'etcd', servers: TlsServers): void {
  const table = `${driver}.tls`;
  const mistakes: { what: string; config: () => LockerConfig; section: string; field: string; says: RegExp }[] = [
    {
      what: "a server whose certificate expired: [<section>] tls, renew the server's",
      config: () => tlsSection(driver, servers.expired.addr, servers.certs.clientTable),
      section: driver,
      field: 'tls',
      says: /the server's certificate has expired; renew it on the server/,
    },
    {
      what: 'our client certificate expired: cert_file, with the date it ended',
      config: () => tlsSection(driver, servers.mutual.addr, servers.certs.expiredClientTable),
      section: table,
      field: 'cert_file',
      says: /our client certificate expired on Jan {1,2}2 00:00:00 2020 GMT; expected \[\w+\.tls\] cert_file \(and key_file\) renewed/,
    },
    {
      what: 'TLS set against a plain server: [<section>] tls, the port answers plain text',
      config: () => tlsSection(driver, servers.plain.addr, servers.certs.clientTable),
      section: driver,
      field: 'tls',
      says: /the server answers plain .* on this port, not TLS/,
    },
    {
      what: 'no TLS set against a TLS server: [<section>] tls, the port speaks TLS',
      config: () => tlsSection(driver, servers.mutual.addr),
      section: driver,
      field: 'tls',
      says: /the server speaks TLS on this port; expected tls = true .* or a \[\w+\.tls\] table/,
    },
    {
      what: 'a cert_file that holds no certificate: cert_file, before connecting',
      config: () =>
        tlsSection(driver, servers.mutual.addr, { ...servers.certs.clientTable, cert_file: servers.certs.clientTable.key_file }),
      section: table,
      field: 'cert_file',
      says: /expected a PEM certificate/,
    },
    {
      what: "a key_file that is not the certificate's key: key_file, before connecting",
      config: () =>
        tlsSection(driver, servers.mutual.addr, { ...servers.certs.clientTable, key_file: servers.certs.expiredClientTable.key_file }),
      section: table,
      field: 'key_file',
      says: /expected the private key of cert_file's certificate/,
    },
  ];
  for (const mistake of mistakes) {
    it(`names the cause at bootstrap: ${mistake.what.replace('<section>', driver)}`, async () => {
      const error = await refusedAtBootstrap(mistake.config());
      assert.equal(`[${error.section}] ${error.field}`, `[${mistake.section}] ${mistake.field}`, error.message);
      assert.match(error.message, mistake.says);
    });
  }
}
