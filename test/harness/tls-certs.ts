import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { ServerTls, TestServer } from './servers';

/** PEM files of one test CA and what it signed, in a private temporary directory. */
export interface TestCerts {
  dir: string;
  /** The test CA's certificate. */
  ca: string;
  /** A server that demands a client certificate signed by the test CA. */
  mutualServer: ServerTls;
  /** A server whose certificate the other CA signed. */
  foreignServer: ServerTls;
  /** A connection section's `tls` table for the test CA, with the client certificate. */
  clientTable: { ca_file: string; cert_file: string; key_file: string };
  remove(): void;
}

/** The name the server certificates carry besides 127.0.0.1. */
export const SERVER_NAME = 'locker.test';

/**
 * Makes a CA, a server certificate for 127.0.0.1 and `locker.test`, a client certificate (for mutual
 * TLS), and a second CA with its own server certificate, with the `openssl` command line tool.
 */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'nest-locker-tls-'));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(path('server.ext'), `subjectAltName=DNS:${SERVER_NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n`);
  writeFileSync(path('client.ext'), 'extendedKeyUsage=clientAuth\n');
  const makeCa = (name: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    );
  const sign = (name: string, ca: string, ext: string) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      `${name}.pem`,
    );
  };
  makeCa('ca');
  makeCa('other-ca');
  sign('server', 'ca', 'server.ext');
  sign('client', 'ca', 'client.ext');
  sign('other-server', 'other-ca', 'server.ext');
  return {
    dir,
    ca: path('ca.pem'),
    mutualServer: { cert: path('server.pem'), key: path('server-key.pem'), clientCa: path('ca.pem') },
    foreignServer: { cert: path('other-server.pem'), key: path('other-server-key.pem') },
    clientTable: { ca_file: path('ca.pem'), cert_file: path('client.pem'), key_file: path('client-key.pem') },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** In the calling suite: certificates, a server demanding mutual TLS and one signed by another CA, up before the tests. */
export function useTlsServers(start: (tls: ServerTls) => Promise<TestServer>): {
  certs: TestCerts;
  mutual: TestServer;
  foreign: TestServer;
} {
  const fixture = {} as { certs: TestCerts; mutual: TestServer; foreign: TestServer };
  before(async () => {
    fixture.certs = makeTestCerts();
    [fixture.mutual, fixture.foreign] = await Promise.all([start(fixture.certs.mutualServer), start(fixture.certs.foreignServer)]);
  });
  after(async () => {
    await Promise.all([fixture.mutual?.stop(), fixture.foreign?.stop()]);
    fixture.certs?.remove();
  });
  return fixture;
}
