import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterKeySlot } from '../../lib/drivers/redis/redis-cluster-slot';
import { freePort } from './free-port';
import { HarnessServer, redisCommand, waitUntil } from './redis-command';
import { ServerProcess } from './server-process';
import { redisListenArgs, ServerTls, TestServer, wrap } from './servers';

export interface RedisCluster {
  /** The masters; `kill()`/`start()` of one brings it back into the cluster with its slots (no data). */
  nodes: TestServer[];
  /** The replicas (none unless asked for), `replicas` per master in the masters' order. */
  replicas: TestServer[];
  /** `127.0.0.1:port` of every master, as `cluster = [...]` wants them. */
  addrs: string[];
  /** The master that serves `key`'s slot now and its replicas, as the cluster says (failovers swap roles). */
  serving(key: string): Promise<{ master: TestServer; replicas: TestServer[] }>;
  stop(): Promise<void>;
}

const SLOTS = 16384;

export interface RedisClusterOptions {
  /** Arguments for every node (e.g. `--user` lines; the harness itself connects as the default user). */
  serverArgs?: string[];
  /** Replicas per master (default none). */
  replicas?: number;
}

/**
 * A private Redis Cluster of `masters` masters (no persistence) on free loopback ports.
 * Losing a master leaves the others serving their slots (cluster-require-full-coverage no).
 */
export async function startRedisCluster(masters = 3, tls?: ServerTls, options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const { serverArgs = [], replicas = 0 } = options;
  const dir = mkdtempSync(join(tmpdir(), 'nest-locker-redis-cluster-'));
  // the harness's own connections: the server certificate doubles as a client one (same CA)
  const harnessTls = tls && { ca: readFileSync(tls.clientCa ?? tls.cert), cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
  const node = (port: number): HarnessServer => (harnessTls ? { port, tls: harnessTls } : port);
  const clusterOk = async (port: number) => /cluster_state:ok/.test(String(await redisCommand(node(port), 'CLUSTER', 'INFO')));
  const knownMasters = async (port: number) => mastersUp(String(await redisCommand(node(port), 'CLUSTER', 'NODES')));
  const ports: number[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) ports.push(await freePort());
  const masterPorts = ports.slice(0, masters);
  const replicaPorts = ports.slice(masters);
  const replicating = async (port: number) => /master_link_status:up/.test(String(await redisCommand(node(port), 'INFO', 'replication')));
  let formed = false;
  const whole = async (): Promise<boolean> => {
    const states = await Promise.all(ports.map(async (port) => (await clusterOk(port)) && (await knownMasters(port)) === masters));
    const replicated = await Promise.all(replicaPorts.map(replicating));
    return [...states, ...replicated].every(Boolean);
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
      masterPorts.map((port, i) => redisCommand(node(port), 'CLUSTER', 'ADDSLOTSRANGE', i * per, Math.min(SLOTS, (i + 1) * per) - 1)),
    );
    for (const port of ports.slice(1)) await redisCommand(node(port), 'CLUSTER', 'MEET', '127.0.0.1', ports[0]);
    const masterIds = await Promise.all(masterPorts.map(async (port) => String(await redisCommand(node(port), 'CLUSTER', 'MYID'))));
    for (const [i, port] of replicaPorts.entries()) {
      const master = masterIds[i % masters];
      // a replica can follow a master only once it has heard of it over the bus
      await waitUntil('replica knows its master', async () => String(await redisCommand(node(port), 'CLUSTER', 'NODES')).includes(master));
      await redisCommand(node(port), 'CLUSTER', 'REPLICATE', master);
    }
    await waitUntil('cluster formed', whole);
    if (replicas > 0) {
      // CLUSTER SLOTS (the map clients go by) lists a replica once it replicated something: one write per master
      for (const [i, port] of masterPorts.entries()) {
        let n = 0;
        while (Math.floor(clusterKeySlot(`formed-${n}`) / per) !== i) n++;
        await redisCommand(node(port), 'SET', `formed-${n}`, '1');
      }
      const listed = async (port: number) =>
        ((await redisCommand(node(port), 'CLUSTER', 'SLOTS')) as unknown[][]).every((range) => range.length - 3 >= replicas);
      await waitUntil('every replica in the slot map', async () => (await Promise.all(ports.map(listed))).every(Boolean));
    }
    formed = true;
  } catch (error) {
    await Promise.all(servers.map((server) => server.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const nodes = servers.slice(0, masters).map(wrap);
  const all = [...nodes, ...servers.slice(masters).map(wrap)];
  return {
    nodes,
    replicas: all.slice(masters),
    addrs: nodes.map((node) => node.addr),
    async serving(key) {
      for (const server of all) {
        try {
          const slot = Number(await redisCommand(node(server.port), 'CLUSTER', 'KEYSLOT', key));
          const lines = String(await redisCommand(node(server.port), 'CLUSTER', 'NODES'))
            .trim()
            .split('\n')
            .map(parseNodeLine);
          const master = lines.find((line) => /master/.test(line.flags) && !/fail/.test(line.flags) && line.serves(slot));
          if (!master) continue;
          const byPort = (port: number) => all.find((candidate) => candidate.port === port) as TestServer;
          const replicas = lines.filter((line) => line.masterId === master.id && !/fail/.test(line.flags));
          return { master: byPort(master.port), replicas: replicas.map((line) => byPort(line.port)) };
        } catch {
          // a node that is down or not yet in the cluster: ask the next
        }
      }
      throw new Error(`no node says which master serves ${key}`);
    },
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

/** One line of CLUSTER NODES: `<id> <ip:port@bus> <flags> <master id or -> ... <slot ranges>`. */
function parseNodeLine(line: string) {
  const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
  const ranges = slots.filter((slot) => !slot.startsWith('[')).map((slot) => slot.split('-').map(Number));
  return {
    id,
    port: Number(address.split('@')[0].split(':')[1]),
    flags,
    masterId,
    serves: (slot: number) => ranges.some(([from, to = from]) => from <= slot && slot <= to),
  };
}
