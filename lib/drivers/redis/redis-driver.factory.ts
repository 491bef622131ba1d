import type * as IORedis from 'ioredis';
import { SectionReader } from '../../config/section-reader';
import { LockerConfigError } from '../../errors';
import type { LockerDriverFactory } from '../../interfaces/locker-driver.interface';
import { connectOrExplain, requireOptionalPeer } from '../../utils/optional-peer';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './redis-connection';
import { RedisLockDriver } from './redis-lock.driver';
import { describeTopology, readTopology, RedisNodeAddress, RedisTopology, topologyField } from './redis-topology';

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
  'command_timeout',
] as const;

export interface RedisDriverSettings {
  section: string;
  topology: RedisTopology;
  password?: string;
  username?: string;
  db: number;
  connectTimeout: number;
  /** Deadline of every command, ms: a server that stops answering cannot hold up a call or a shutdown. */
  commandTimeout: number;
}

/**
 * `driver = "redis"` with a `[redis]`-shaped connection section: exactly one of `addr`, `cluster` (seed
 * nodes) or `sentinels` + `master_name`; plus auth, db, max_idle, idle_timeout, connect_timeout, command_timeout.
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
      commandTimeout: reader.integer('command_timeout', 1) ?? DEFAULT_COMMAND_TIMEOUT_MS,
    };
  },
  async create(settings, context) {
    const ioredis = requireOptionalPeer<typeof IORedis>('ioredis', 'redis', settings.section);
    const { topology } = settings;
    const serverOptions = {
      password: settings.password,
      username: settings.username,
      connectTimeout: settings.connectTimeout,
      commandTimeout: settings.commandTimeout,
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

/**
 * Release notifications in a cluster: classic PUBLISH reaches every node, so one plain connection to any
 * node hears all releases. It gives up on a node that stays away (the subscriber then opens another).
 */
function subscriberOnSomeNode(
  Redis: typeof IORedis.Redis,
  cluster: IORedis.Cluster,
  seeds: RedisNodeAddress[],
  options: { password?: string; username?: string; connectTimeout: number; commandTimeout: number },
): IORedis.Redis {
  const known = cluster.nodes('all').map((node) => ({ host: node.options.host, port: node.options.port }));
  const candidates = known.length > 0 ? known : seeds;
  const node = candidates[Math.floor(Math.random() * candidates.length)];
  return new Redis({ ...node, ...options, retryStrategy: (attempt) => (attempt > 3 ? null : attempt * 100) });
}
