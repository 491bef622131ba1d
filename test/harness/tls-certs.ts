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
  /** A server (not asking for client certificates) whose certificate expired: valid for one day in January 2020. */
  expiredServer: ServerTls;
  /** A connection section's `tls` table for the test CA, with the client certificate. */
  clientTable: { ca_file: string; cert_file: string; key_file: string };
  /** As `clientTable`, with a client certificate that expired (valid for one day in January 2020). */
  expiredClientTable: { ca_file: string; cert_file: string; key_file: string };
  remove(): void;
}

/** The name the server certificates carry besides 127.0.0.1. */
export const SERVER_NAME = 'locker.test';

/** When the expired certificates were valid: `openssl ca` sets both dates, no clock needs faking. */
const EXPIRED_VALIDITY = ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'];

/**
 * Makes a CA, a server certificate for 127.0.0.1 and `locker.test`, a client certificate (for mutual
 * TLS), expired ones of each, and a second CA with its own server certificate, with the `openssl` command
 * line tool.
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
  // `openssl x509 -req` only signs from now on; `openssl ca` takes the dates, with a minimal CA database
  writeFileSync(
    path('ca.cnf'),
    '[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\nserial = ca.serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\n',
  );
  writeFileSync(path('index.txt'), '');
  writeFileSync(path('ca.serial'), '01\n');
  const signExpired = (name: string, ext: string) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`);
    openssl(
      'ca',
      '-batch',
      '-notext',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      ...EXPIRED_VALIDITY,
      '-extfile',
      ext,
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.pem`,
    );
  };
  makeCa('ca');
  makeCa('other-ca');
  sign('server', 'ca', 'server.ext');
  sign('client', 'ca', 'client.ext');
  sign('other-server', 'other-ca', 'server.ext');
  signExpired('expired-server', 'server.ext');
  signExpired('expired-client', 'client.ext');
  return {
    dir,
    ca: path('ca.pem'),
    mutualServer: { cert: path('server.pem'), key: path('server-key.pem'), clientCa: path('ca.pem') },
    foreignServer: { cert: path('other-server.pem'), key: path('other-server-key.pem') },
    expiredServer: { cert: path('expired-server.pem'), key: path('expired-server-key.pem') },
    clientTable: { ca_file: path('ca.pem'), cert_file: path('client.pem'), key_file: path('client-key.pem') },
    expiredClientTable: { ca_file: path('ca.pem'), cert_file: path('expired-client.pem'), key_file: path('expired-client-key.pem') },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The servers `useTlsServers` starts. */
export interface TlsServers {
  certs: TestCerts;
  /** Demands a client certificate signed by the test CA. */
  mutual: TestServer;
  /** Its certificate was signed by another CA. */
  foreign: TestServer;
  /** Its certificate expired. */
  expired: TestServer;
  /** Speaks no TLS at all. */
  plain: TestServer;
}

/** In the calling suite: certificates, and servers with each kind of certificate (and one plain), up before the tests. */
export function useTlsServers(start: (tls?: ServerTls) => Promise<TestServer>): TlsServers {
  const fixture = {} as TlsServers;
  before(async () => {
    const certs = (fixture.certs = makeTestCerts());
    [fixture.mutual, fixture.foreign, fixture.expired, fixture.plain] = await Promise.all([
      start(certs.mutualServer),
      start(certs.foreignServer),
      start(certs.expiredServer),
      start(),
    ]);
  });
  after(async () => {
    await Promise.all([fixture.mutual, fixture.foreign, fixture.expired, fixture.plain].map((server) => server?.stop()));
    fixture.certs?.remove();
  });
  return fixture;
}
