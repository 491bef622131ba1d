import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { HarnessServer, redisCommand, waitUntil } from './redis-command';
import { ServerProcess } from './server-process';
import { redisListenArgs, redisListenSettings, ServerTls, TestServer, wrap } from './servers';

export interface RedisSentinelSetup {
  master: TestServer;
  replica: TestServer;
  sentinels: TestServer[];
  /** `127.0.0.1:port` of every sentinel, as `sentinels = [...]` wants them. */
  sentinelAddrs: string[];
  masterName: string;
  /** `127.0.0.1:port` of the master as the first answering sentinel names it. */
  currentMasterAddr(): Promise<string>;
  /** Kills the master (SIGKILL); resolves once every sentinel names the replica as master. */
  failover(): Promise<void>;
  /**
   * `SENTINEL FAILOVER`, the maintenance path: the replica is promoted and the old master left running (the
   * sentinels turn it into a replica ~10 s later); resolves once every sentinel names the replica as master.
   */
  plannedFailover(): Promise<void>;
  /** Resolves once the old master of a planned failover serves as a replica (the sentinels turned it). */
  oldMasterDemoted(withinMs: number): Promise<void>;
  /** An operator's `REPLICAOF NO ONE` on the replica, behind the sentinels' back (they turn it back later). */
  promoteReplica(): Promise<void>;
  stop(): Promise<void>;
}

const MASTER_NAME = 'nest-locker-master';
const SENTINELS = 3;

/**
 * A private master, one replica and three sentinels (quorum 2) on free loopback ports, no persistence.
 * Short timeouts make a failover take about 1-2 s.
 */
export interface RedisSentinelOptions {
  /** The sentinels' own password (`requirepass` in their config; they use it with each other too). */
  sentinelPassword?: string;
  /** Every server and sentinel speaks only TLS (replication and sentinel links too). */
  tls?: ServerTls;
}

export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelSetup> {
  const { sentinelPassword, tls } = options;
  // the harness's own connections: the server certificate doubles as a client one (same CA)
  const harnessTls = tls && { ca: readFileSync(tls.clientCa ?? tls.cert), cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
  const server = (port: number): HarnessServer => (harnessTls ? { port, tls: harnessTls } : port);
  const sentinel = (port: number): HarnessServer => ({ port, password: sentinelPassword, tls: harnessTls });
  const auth = sentinelPassword ? [`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`] : [];
  const dir = mkdtempSync(join(tmpdir(), 'nest-locker-redis-sentinel-'));
  const [masterPort, replicaPort] = [await freePort(), await freePort()];
  const sentinelPorts: number[] = [];
  for (let i = 0; i < SENTINELS; i++) sentinelPorts.push(await freePort());
  const master = redisServer(masterPort, dir, [], tls);
  const replica = redisServer(replicaPort, dir, ['--replicaof', '127.0.0.1', String(masterPort)], tls);
  const sentinels = sentinelPorts.map((port) => {
    // sentinels rewrite their config file, so each has its own
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        ...redisListenSettings(port, tls).map(([directive, value]) => `${directive} ${value}`),
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 500`,
        `sentinel failover-timeout ${MASTER_NAME} 2000`,
        ...auth,
        '',
      ].join('\n'),
    );
    return new ServerProcess(`redis sentinel ${port}`, process.env.REDIS_SERVER_BIN ?? 'redis-server', [conf, '--sentinel'], port);
  });
  const all = [master, replica, ...sentinels];
  try {
    await master.start();
    await replica.start();
    await waitUntil('replica in sync', async () =>
      /master_link_status:up/.test(String(await redisCommand(server(replicaPort), 'INFO', 'replication'))),
    );
    await Promise.all(sentinels.map((sentinel) => sentinel.start()));
    // a failover needs every sentinel to know the replica and the other sentinels
    await waitUntil('sentinels see the replica and each other', async () => {
      const views = await Promise.all(sentinelPorts.map((port) => redisCommand(sentinel(port), 'SENTINEL', 'MASTER', MASTER_NAME)));
      return views.every((view) => {
        const fields = fieldsOf(view as string[]);
        return fields['num-slaves'] === '1' && fields['num-other-sentinels'] === String(SENTINELS - 1);
      });
    });
  } catch (error) {
    await Promise.all(all.map((server) => server.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const askAll = () =>
    Promise.all(
      sentinelPorts.map((port) =>
        redisCommand(sentinel(port), 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME).then(
          (reply) => (reply as string[]).join(':'),
          () => undefined,
        ),
      ),
    );
  const replicaNamed = async () => {
    const replicaAddr = `127.0.0.1:${replicaPort}`;
    await waitUntil(`sentinels name ${replicaAddr} as master`, async () => (await askAll()).every((addr) => addr === replicaAddr));
  };
  const setup: RedisSentinelSetup = {
    master: wrap(master),
    replica: wrap(replica),
    sentinels: sentinels.map(wrap),
    sentinelAddrs: sentinelPorts.map((port) => `127.0.0.1:${port}`),
    masterName: MASTER_NAME,
    async currentMasterAddr() {
      const named = (await askAll()).find((addr) => addr !== undefined);
      if (!named) throw new Error('no sentinel answered');
      return named;
    },
    async failover() {
      await master.kill();
      await replicaNamed();
    },
    async plannedFailover() {
      await redisCommand(sentinel(sentinelPorts[0]), 'SENTINEL', 'FAILOVER', MASTER_NAME);
      await replicaNamed();
    },
    async oldMasterDemoted(withinMs) {
      const role = async () => ((await redisCommand(server(masterPort), 'ROLE')) as string[])[0];
      await waitUntil('the old master serves as a replica', async () => (await role()) === 'slave', withinMs);
    },
    async promoteReplica() {
      await redisCommand(server(replicaPort), 'REPLICAOF', 'NO', 'ONE');
    },
    async stop() {
      await Promise.all(all.map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return setup;
}

function redisServer(port: number, dir: string, extra: string[], tls?: ServerTls): ServerProcess {
  return new ServerProcess(
    `redis-server ${port}`,
    process.env.REDIS_SERVER_BIN ?? 'redis-server',
    [...redisListenArgs(port, tls), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir, ...extra],
    port,
  );
}

/** SENTINEL MASTER replies with a flat [name, value, name, value, ...] list. */
function fieldsOf(reply: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[reply[i]] = reply[i + 1];
  return fields;
}
