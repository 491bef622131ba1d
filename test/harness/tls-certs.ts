import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of one test CA and what it signed, in a private temporary directory. */
export interface TestCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Another CA, which signed nothing here: a client trusting it refuses our servers. */
  otherCa: string;
  /** A server certificate signed by the other CA, and its key. */
  otherServerCert: string;
  otherServerKey: string;
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
    serverCert: path('server.pem'),
    serverKey: path('server-key.pem'),
    clientCert: path('client.pem'),
    clientKey: path('client-key.pem'),
    otherCa: path('other-ca.pem'),
    otherServerCert: path('other-server.pem'),
    otherServerKey: path('other-server-key.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
