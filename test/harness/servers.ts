import { get } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** A private redis-server on a free loopback port, without persistence. */
export async function startRedis(): Promise<TestServer> {
  const port = await freePort();
  const server = new ServerProcess(
    'redis-server',
    process.env.REDIS_SERVER_BIN ?? 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--daemonize', 'no'],
    port,
  );
  await server.start();
  return wrap(server);
}

/** A private single-member etcd on free loopback ports, with its data in a temporary directory. */
export async function startEtcd(): Promise<TestServer> {
  const [port, peerPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'nest-locker-etcd-'));
  const peer = `http://127.0.0.1:${peerPort}`;
  const server = new ServerProcess(
    'etcd',
    process.env.ETCD_BIN ?? 'etcd',
    [
      '--name',
      'nl',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      `http://127.0.0.1:${port}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${port}`,
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
    () => etcdHealthy(port),
  );
  await server.start();
  const wrapped = wrap(server);
  return {
    ...wrapped,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

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
export function etcdHealthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    get(`http://127.0.0.1:${port}/health`, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve(/"health":\s*"true"/.test(body)));
    }).once('error', () => resolve(false));
  });
}
