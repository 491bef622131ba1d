import { get, IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { ServerProcess } from './server-process';

export interface TestServer {
  /** `127.0.0.1:port`, as a config section's `addr` / `endpoints` entry wants it. */
  readonly addr: string;
  readonly port: number;
  /** Kill (SIGKILL) and start again on the same port. Redis loses its data; etcd keeps it. */
  restart(downForMs?: number): Promise<void>;
  kill(): Promise<void>;
  /** Stops answering (SIGSTOP) with its connections open, until `resume()` (a single server process only). */
  pause?(): void;
  resume?(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A server's certificate and key, and the CA that must have signed a client's certificate (mutual TLS). */
export interface ServerTls {
  cert: string;
  key: string;
  clientCa?: string;
}

export interface RedisServerOptions {
  /** More redis-server arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']` or an ACL `--user` line. */
  args?: string[];
  /** Speak only TLS (`--tls-port`, `--port 0`). */
  tls?: ServerTls;
}

/**
 * redis-server settings to listen on `port`: plain, or TLS only (port 0). Replication and the cluster bus
 * speak TLS too then, with the server's certificate as the client one. As `[directive, value]` pairs, for
 * the command line (`redisListenArgs`) or a config file (sentinels).
 */
export function redisListenSettings(port: number, tls?: ServerTls): [string, string][] {
  if (!tls) return [['port', String(port)]];
  return [
    ['port', '0'],
    ['tls-port', String(port)],
    ['tls-cert-file', tls.cert],
    ['tls-key-file', tls.key],
    // redis wants a CA file even when it asks clients for no certificate
    ['tls-ca-cert-file', tls.clientCa ?? tls.cert],
    ['tls-auth-clients', tls.clientCa ? 'yes' : 'no'],
    ['tls-replication', 'yes'],
  ];
}

export const redisListenArgs = (port: number, tls?: ServerTls): string[] =>
  redisListenSettings(port, tls).flatMap(([directive, value]) => [`--${directive}`, value]);

/**
 * A private redis-server on a free loopback port, without persistence. Its directory is a temporary one: a
 * server made a replica still writes the snapshot it syncs from there.
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<TestServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nest-locker-redis-'));
  const server = new ServerProcess(
    'redis-server',
    process.env.REDIS_SERVER_BIN ?? 'redis-server',
    [
      ...redisListenArgs(port, options.tls),
      ...['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--daemonize', 'no'],
      ...['--dir', dir],
      ...(options.args ?? []),
    ],
    port,
  );
  await server.start();
  return withDirRemovedOnStop(wrap(server), server, dir);
}

/**
 * A private single-member etcd on free loopback ports, with its data in a temporary directory; with `tls`,
 * clients speak https (and must show a certificate signed by `clientCa` when given).
 */
export async function startEtcd(tls?: ServerTls): Promise<TestServer> {
  const [port, peerPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'nest-locker-etcd-'));
  const peer = `http://127.0.0.1:${peerPort}`;
  const client = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const tlsArgs = tls
    ? ['--cert-file', tls.cert, '--key-file', tls.key, ...(tls.clientCa ? ['--client-cert-auth', '--trusted-ca-file', tls.clientCa] : [])]
    : [];
  const server = new ServerProcess(
    'etcd',
    process.env.ETCD_BIN ?? 'etcd',
    [
      '--name',
      'nl',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      client,
      '--advertise-client-urls',
      client,
      ...tlsArgs,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `nl=${peer}`,
      '--log-level',
      'error',
    ],
    port,
    () => etcdHealthy(port, tls),
  );
  await server.start();
  return withDirRemovedOnStop(wrap(server), server, dataDir);
}

const withDirRemovedOnStop = (wrapped: TestServer, server: ServerProcess, dir: string): TestServer => ({
  ...wrapped,
  stop: async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  },
});

/** The TestServer face of a server process. */
export function wrap(server: ServerProcess): TestServer {
  return {
    addr: `127.0.0.1:${server.port}`,
    port: server.port,
    restart: (downForMs) => server.restart(downForMs),
    kill: () => server.kill(),
    pause: () => server.pause(),
    resume: () => server.resume(),
    start: () => server.start(),
    stop: () => server.stop(),
  };
}

/** etcd answers /health with true only while it sees a leader. */
export function etcdHealthy(port: number, tls?: ServerTls): Promise<boolean> {
  // the server's own certificate is signed by the test CA too, so it serves as the client's here
  const request = tls
    ? (url: string, callback: (response: IncomingMessage) => void) =>
        httpsGet(url, { rejectUnauthorized: false, cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, callback)
    : (url: string, callback: (response: IncomingMessage) => void) => get(url, callback);
  return new Promise((resolve) => {
    request(`${tls ? 'https' : 'http'}://127.0.0.1:${port}/health`, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve(/"health":\s*"true"/.test(body)));
    }).once('error', () => resolve(false));
  });
}
