import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { HarnessServer, redisCommand, waitUntil } from './redis-command';
import { ServerProcess } from './server-process';
import { redisListenArgs, ServerTls, TestServer, wrap } from './servers';

export interface RedisCluster {
  /** The masters; `kill()`/`start()` of one brings it back into the cluster with its slots (no data). */
  nodes: TestServer[];
  /** `127.0.0.1:port` of every master, as `cluster = [...]` wants them. */
  addrs: string[];
  stop(): Promise<void>;
}

const SLOTS = 16384;

/**
 * A private Redis Cluster of `masters` masters (no replicas, no persistence) on free loopback ports.
 * Losing a master leaves the others serving their slots (cluster-require-full-coverage no). `serverArgs`
 * go to every node (e.g. `--user` lines; the harness itself connects as the default user).
 */
export async function startRedisCluster(masters = 3, tls?: ServerTls, serverArgs: string[] = []): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'nest-locker-redis-cluster-'));
  // the harness's own connections: the server certificate doubles as a client one (same CA)
  const harnessTls = tls && { ca: readFileSync(tls.clientCa ?? tls.cert), cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
  const node = (port: number): HarnessServer => (harnessTls ? { port, tls: harnessTls } : port);
  const clusterOk = async (port: number) => /cluster_state:ok/.test(String(await redisCommand(node(port), 'CLUSTER', 'INFO')));
  const knownMasters = async (port: number) => mastersUp(String(await redisCommand(node(port), 'CLUSTER', 'NODES')));
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await freePort());
  let formed = false;
  const whole = async (): Promise<boolean> => {
    const states = await Promise.all(ports.map(async (port) => (await clusterOk(port)) && (await knownMasters(port)) === masters));
    return states.every(Boolean);
  };
  const servers = ports.map(
    (port) =>
      new ServerProcess(
        `redis-server (cluster node ${port})`,
        process.env.REDIS_SERVER_BIN ?? 'redis-server',
        [
          ...redisListenArgs(port, tls),
          ...(tls ? ['--tls-cluster', 'yes'] : []),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          // kept across kill/start: the node comes back knowing its slots and peers
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '1000',
          '--cluster-require-full-coverage',
          'no',
          ...serverArgs,
        ],
        port,
        // once formed, a (re)started node is ready when every node sees all masters up again
        async () => !formed || (await whole()),
      ),
  );
  try {
    await Promise.all(servers.map((server) => server.start()));
    const per = Math.ceil(SLOTS / masters);
    await Promise.all(
      ports.map((port, i) => redisCommand(node(port), 'CLUSTER', 'ADDSLOTSRANGE', i * per, Math.min(SLOTS, (i + 1) * per) - 1)),
    );
    for (const port of ports.slice(1)) await redisCommand(node(port), 'CLUSTER', 'MEET', '127.0.0.1', ports[0]);
    await waitUntil('cluster formed', whole);
    formed = true;
  } catch (error) {
    await Promise.all(servers.map((server) => server.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const nodes = servers.map(wrap);
  return {
    nodes,
    addrs: nodes.map((node) => node.addr),
    async stop() {
      await Promise.all(servers.map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Masters with slots that a node's CLUSTER NODES shows as connected and not failing. */
function mastersUp(clusterNodes: string): number {
  const lines = clusterNodes.trim().split('\n');
  return lines.filter((line) => {
    const [, , flags, , , , , link, ...slots] = line.split(' ');
    return /master/.test(flags) && !/fail/.test(flags) && link === 'connected' && slots.length > 0;
  }).length;
}
