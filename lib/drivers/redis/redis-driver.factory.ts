import type * as IORedis from 'ioredis';
import { parseHostPort, SectionReader } from '../../config/section-reader';
import { LockerConfigError } from '../../errors';
import type { LockerDriverFactory } from '../../interfaces/locker-driver.interface';
import { connectOrExplain, requireOptionalPeer } from '../../utils/optional-peer';
import { RedisLockDriver } from './redis-lock.driver';

const FIELDS = [
  'addr',
  'cluster',
  'sentinels',
  'master_name',
  'auth',
  'username',
  'db',
  'max_idle',
  'idle_timeout',
  'connect_timeout',
] as const;
const TOPOLOGY_FIELDS = ['addr', 'cluster', 'sentinels'] as const;

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** Where the servers are: one server (`addr`), a Redis Cluster (`cluster`) or a master found by Sentinel. */
export type RedisTopology =
  | ({ kind: 'server'; addr: string } & RedisNodeAddress)
  | { kind: 'cluster'; nodes: RedisNodeAddress[] }
  | { kind: 'sentinel'; sentinels: RedisNodeAddress[]; masterName: string };

export interface RedisDriverSettings {
  section: string;
  topology: RedisTopology;
  password?: string;
  username?: string;
  db: number;
  connectTimeout: number;
}

/**
 * `driver = "redis"` with a `[redis]`-shaped connection section: exactly one of `addr`, `cluster` (seed
 * nodes) or `sentinels` + `master_name`; plus auth, db, max_idle, idle_timeout.
 */
export const redisDriverFactory: LockerDriverFactory<RedisDriverSettings> = {
  name: 'redis',
  defaultKeyPrefix: 'nest-locker:',
  parseConnection(section, raw) {
    const reader: SectionReader = new SectionReader(section, raw ?? {}, FIELDS);
    reader.integer('max_idle', 0);
    reader.integer('idle_timeout', 0);
    const topology = readTopology(reader);
    const db = reader.integer('db', 0) ?? 0;
    if (topology.kind === 'cluster' && db !== 0) {
      reader.fail('db', `expected 0 (or no db) with "cluster": Redis Cluster has only database 0, got ${db}`);
    }
    return {
      section,
      topology,
      password: reader.has('auth') ? reader.string('auth') : undefined,
      username: reader.string('username'),
      db,
      connectTimeout: reader.integer('connect_timeout', 1) ?? 5000,
    };
  },
  async create(settings, context) {
    const ioredis = requireOptionalPeer<typeof IORedis>('ioredis', 'redis', settings.section);
    const { topology } = settings;
    const serverOptions = {
      password: settings.password,
      username: settings.username,
      connectTimeout: settings.connectTimeout,
      // Lock commands fail fast while the server is away; keep-alive retries on its own schedule.
      maxRetriesPerRequest: 1,
    };
    const retryStrategy = (attempt: number) => Math.min(attempt * 50, 1000);
    let client: IORedis.Redis | IORedis.Cluster;
    let openSubscriber: (() => IORedis.Redis) | undefined;
    if (topology.kind === 'cluster') {
      const cluster = new ioredis.Cluster(topology.nodes, {
        lazyConnect: true,
        redisOptions: serverOptions,
        clusterRetryStrategy: retryStrategy,
        // a master that was away comes back on the same address: find it again soon
        slotsRefreshInterval: 1000,
      });
      client = cluster;
      openSubscriber = () => subscriberOnSomeNode(ioredis.Redis, cluster, topology.nodes, serverOptions);
    } else {
      const where =
        topology.kind === 'server'
          ? { host: topology.host, port: topology.port }
          : {
              sentinels: topology.sentinels,
              name: topology.masterName,
              sentinelRetryStrategy: retryStrategy,
              // a master demoted by a failover refuses writes: ask the sentinels for the new one
              reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
            };
      client = new ioredis.Redis({ ...where, ...serverOptions, db: settings.db, lazyConnect: true, retryStrategy });
    }
    client.on('error', () => undefined); // ioredis reconnects by itself; failures surface on commands
    await connectOrExplain(
      client.connect().then(() => client.ping()),
      settings.connectTimeout,
      (reason) => {
        client.disconnect();
        return new LockerConfigError({
          section: settings.section,
          field: topologyField(topology),
          message: `cannot reach ${describeTopology(topology)}: ${reason}`,
        });
      },
    );
    return new RedisLockDriver(client, context, true, openSubscriber);
  },
};

function readTopology(reader: SectionReader): RedisTopology {
  const given = TOPOLOGY_FIELDS.filter((field) => reader.has(field));
  if (given.length !== 1) {
    const field = given[1] ?? 'addr';
    const found = given.length === 0 ? 'none was given' : `got ${given.join(' and ')}`;
    reader.fail(
      field,
      `expected exactly one of addr ("host:port"), cluster (["host:port", ...]) or sentinels (with master_name); ${found}`,
    );
  }
  if (given[0] !== 'sentinels' && reader.has('master_name')) {
    reader.fail('master_name', 'expected master_name only together with sentinels');
  }
  switch (given[0]) {
    case 'addr': {
      const addr = reader.string('addr', true);
      return { kind: 'server', addr, ...parseHostPort(reader, 'addr', addr) };
    }
    case 'cluster':
      return { kind: 'cluster', nodes: reader.stringList('cluster').map((node) => parseHostPort(reader, 'cluster', node)) };
    default: {
      const sentinels = reader.stringList('sentinels').map((node) => parseHostPort(reader, 'sentinels', node));
      if (!reader.has('master_name')) reader.fail('master_name', 'expected the name sentinels monitor the master under, with sentinels');
      return { kind: 'sentinel', sentinels, masterName: reader.string('master_name', true) };
    }
  }
}

const topologyField = (topology: RedisTopology): string =>
  topology.kind === 'server' ? 'addr' : topology.kind === 'cluster' ? 'cluster' : 'sentinels';

const hostPorts = (nodes: RedisNodeAddress[]): string => nodes.map((node) => `${node.host}:${node.port}`).join(', ');

function describeTopology(topology: RedisTopology): string {
  if (topology.kind === 'server') return `redis at ${topology.addr}`;
  if (topology.kind === 'cluster') return `a redis cluster through ${hostPorts(topology.nodes)}`;
  return `redis master "${topology.masterName}" through sentinels ${hostPorts(topology.sentinels)}`;
}

/**
 * Release notifications in a cluster: classic PUBLISH reaches every node, so one plain connection to any
 * node hears all releases. It gives up on a node that stays away (the subscriber then opens another).
 */
function subscriberOnSomeNode(
  Redis: typeof IORedis.Redis,
  cluster: IORedis.Cluster,
  seeds: RedisNodeAddress[],
  options: { password?: string; username?: string; connectTimeout: number },
): IORedis.Redis {
  const known = cluster.nodes('all').map((node) => ({ host: node.options.host, port: node.options.port }));
  const candidates = known.length > 0 ? known : seeds;
  const node = candidates[Math.floor(Math.random() * candidates.length)];
  return new Redis({ ...node, ...options, retryStrategy: (attempt) => (attempt > 3 ? null : attempt * 100) });
}
