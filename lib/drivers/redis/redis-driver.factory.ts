import { CONNECTION_DEFAULTS } from '../../config/connection-defaults';
import type * as IORedis from 'ioredis';
import { Logger } from '@nestjs/common';
import { readAppClient } from '../../config/app-client';
import { SectionReader } from '../../config/section-reader';
import { explainTlsFailure } from '../../config/tls-diagnosis';
import { nodeTlsOptions, readTls, TlsSettings } from '../../config/tls-options';
import { LockerConfigError } from '../../errors';
import type { LockerDriverFactory } from '../../interfaces/locker-driver.interface';
import { requireOptionalPeer } from '../../utils/optional-peer';
import { connectOrExplain } from '../../utils/connect-or-explain';
import type { PlainProtocol, ProbeAddress } from '../../utils/protocol-probe';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DISCONNECT_TIMEOUT_MS,
  disconnectNow,
  failStrandedOnDisconnect,
  ownCommandTimeout,
} from './redis-connection';
import { warnIfEvictable } from './redis-eviction-preflight';
import { RedisLockDriver } from './redis-lock.driver';
import { RedisRefusals } from './redis-permission-error';
import { chooseAnnouncing, SubscriberConnection } from './redis-release-channels';
import { refreshSlotsEvery } from './redis-slot-refresh';
import type { ReleaseAnnouncing } from './redis-script-parts';
import { describeTopology, readTopology, RedisNodeAddress, RedisTopology, topologyField } from './redis-topology';

const FIELDS = [
  'addr',
  'cluster',
  'sentinels',
  'master_name',
  'auth',
  'username',
  'sentinel_auth',
  'sentinel_username',
  'db',
  'max_idle',
  'idle_timeout',
  'connect_timeout',
  'command_timeout',
  'tls',
  'client',
] as const;

const DEFAULT_CONNECT_TIMEOUT_MS = CONNECTION_DEFAULTS.connectTimeout;

export interface RedisDriverSettings {
  section: string;
  topology: RedisTopology;
  password?: string;
  username?: string;
  /** Sentinel only: the sentinels' own credentials. */
  sentinelPassword?: string;
  sentinelUsername?: string;
  db: number;
  connectTimeout: number;
  /** Deadline of every command, ms: a server that stops answering cannot hold up a call or a shutdown. */
  commandTimeout: number;
  tls?: TlsSettings;
  /** The app's own client (`client`): used as given, never closed here; the other fields are then unset. */
  appClient?: IORedis.Redis | IORedis.Cluster;
}

/** What a section's connection is: the command client, who closes it, and how to open the subscriber. */
interface RedisConnection {
  client: IORedis.Redis | IORedis.Cluster;
  owned: boolean;
  /** Opens the connection that hears releases announced with `announcing` (unset: a duplicate of the client). */
  openSubscriber?: (announcing: ReleaseAnnouncing) => SubscriberConnection;
}

const logger = new Logger('RedisLockDriver');

/** Reconnecting after a connection dropped: soon, then at most every second. */
const RETRY_STRATEGY = (attempt: number) => Math.min(attempt * 50, 1000);

const CLUSTER_OPTIONS = { clusterRetryStrategy: RETRY_STRATEGY };

/** How often a cluster client asks for the slot map: a master that was away comes back on the same address, find it again soon. */
const SLOTS_REFRESH_MS = 1000;

/**
 * `driver = "redis"` with a `[redis]`-shaped connection section: exactly one of `addr`, `cluster` (seed
 * nodes) or `sentinels` + `master_name`; plus auth, db, tls, max_idle, idle_timeout, connect_timeout,
 * command_timeout. Or `client`, an app's own.
 */
export const redisDriverFactory: LockerDriverFactory<RedisDriverSettings> = {
  name: 'redis',
  defaultKeyPrefix: 'nest-locker:',
  parseConnection(section, raw) {
    const reader: SectionReader = new SectionReader(section, raw ?? {}, FIELDS);
    const appClient = readAppClient(reader, 'redis') as RedisDriverSettings['appClient'];
    if (appClient) {
      // the app's client keeps its own commandTimeout; the driver's renewals and close assume the default without one
      const defaults = { connectTimeout: DEFAULT_CONNECT_TIMEOUT_MS, commandTimeout: DEFAULT_COMMAND_TIMEOUT_MS };
      return { section, appClient, topology: { kind: 'app-client' }, db: 0, ...defaults };
    }
    reader.integer('max_idle', 0);
    reader.integer('idle_timeout', 0);
    const topology = readTopology(reader);
    const db = reader.integer('db', 0) ?? 0;
    if (topology.kind === 'cluster' && db !== 0) {
      reader.fail('db', `expected 0 (or no db) with "cluster": Redis Cluster has only database 0, got ${db}`);
    }
    for (const field of ['sentinel_auth', 'sentinel_username'])
      if (topology.kind !== 'sentinel' && reader.has(field)) reader.fail(field, `expected ${field} only together with sentinels`);
    return {
      section,
      topology,
      password: reader.string('auth'),
      username: reader.string('username'),
      sentinelPassword: reader.string('sentinel_auth'),
      sentinelUsername: reader.string('sentinel_username'),
      db,
      connectTimeout: reader.integer('connect_timeout', 1) ?? DEFAULT_CONNECT_TIMEOUT_MS,
      commandTimeout: reader.integer('command_timeout', 1) ?? DEFAULT_COMMAND_TIMEOUT_MS,
      tls: readTls(reader),
    };
  },
  async create(settings, context) {
    const ioredis = requireOptionalPeer<typeof IORedis>('ioredis', 'redis', settings.section);
    const { client, owned, openSubscriber } = settings.appClient
      ? useAppClient(ioredis, settings.appClient)
      : openClient(ioredis, settings);
    let lastError: Error | undefined;
    if (owned) client.on('error', (error: Error) => (lastError = error)); // ioredis reconnects by itself; failures surface on commands
    const connecting = owned ? client.connect().then(() => client.ping()) : client.ping();
    await connectOrExplain(connecting, settings.connectTimeout, (reason, error) => {
      if (owned) disconnectNow(client);
      // it answered, refusing our user a command: say which, not that it cannot be reached
      const refused = new RedisRefusals(client, settings.section, owned).explain(error);
      if (refused instanceof LockerConfigError) return refused;
      return unreachable(settings, lastError && !reason.includes(lastError.message) ? `${reason} (${lastError.message})` : reason);
    });
    if (!owned && ownCommandTimeout(client) === undefined) {
      // its options are the app's: say what it costs rather than change them
      logger.warn(
        `[${settings.section}] client: the app's ioredis client has no commandTimeout, so a redis server that stops ` +
          'answering can hold up tryAcquire(), acquire() and release() without end; create it with commandTimeout (e.g. 5000)',
      );
    }
    await warnIfEvictable(client, settings.section, settings.connectTimeout, logger);
    const announcing = await chooseAnnouncing(ioredis, client, settings.commandTimeout, settings.section, logger);
    return new RedisLockDriver(client, context, owned, openSubscriber && (() => openSubscriber(announcing)), announcing);
  },
};

/** The client this section opens from its fields; the driver owns and closes it. */
function openClient(ioredis: typeof IORedis, settings: RedisDriverSettings): RedisConnection {
  const { topology } = settings;
  const tls = settings.tls && nodeTlsOptions(settings.tls);
  const serverOptions = {
    password: settings.password,
    username: settings.username,
    connectTimeout: settings.connectTimeout,
    commandTimeout: settings.commandTimeout,
    tls,
    // Lock commands fail fast while the server is away; keep-alive retries on its own schedule.
    maxRetriesPerRequest: 1,
    // ioredis's ready check sends INFO, and prints to the console where an ACL user may not; PING checks instead.
    enableReadyCheck: false,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  };
  if (topology.kind === 'cluster') {
    const cluster = failStrandedOnDisconnect(
      refreshSlotsEvery(
        new ioredis.Cluster(topology.nodes, { ...CLUSTER_OPTIONS, lazyConnect: true, redisOptions: serverOptions }),
        SLOTS_REFRESH_MS,
      ),
    );
    return { client: cluster, owned: true, openSubscriber: clusterSubscriber(ioredis, cluster, topology.nodes, serverOptions) };
  }
  const where =
    topology.kind === 'server'
      ? { host: topology.host, port: topology.port }
      : topology.kind === 'sentinel'
        ? {
            sentinels: topology.sentinels,
            name: topology.masterName,
            sentinelPassword: settings.sentinelPassword,
            sentinelUsername: settings.sentinelUsername,
            sentinelTLS: tls,
            enableTLSForSentinelMode: tls !== undefined,
            sentinelRetryStrategy: RETRY_STRATEGY,
            // a master demoted by a failover refuses writes: ask the sentinels for the new one
            reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
          }
        : {};
  const client = failStrandedOnDisconnect(
    new ioredis.Redis({ ...where, ...serverOptions, db: settings.db, lazyConnect: true, retryStrategy: RETRY_STRATEGY }),
  );
  return { client, owned: true, openSubscriber: () => failStrandedOnDisconnect(client.duplicate()) };
}

/** The app's client as given (never closed here); the subscriber is a copy of it that the driver owns. */
function useAppClient(ioredis: typeof IORedis, client: IORedis.Redis | IORedis.Cluster): RedisConnection {
  if (!client.isCluster)
    return {
      client,
      owned: false,
      openSubscriber: () =>
        failStrandedOnDisconnect(
          (client as IORedis.Redis).duplicate({ enableReadyCheck: false, disconnectTimeout: DISCONNECT_TIMEOUT_MS }),
        ),
    };
  const cluster = client as IORedis.Cluster;
  const options = { ...cluster.options.redisOptions, enableReadyCheck: false, disconnectTimeout: DISCONNECT_TIMEOUT_MS };
  // the nodes it knows now (it is connected) stand in for seed nodes, should it know none when a key waits
  const seeds = cluster.nodes('all').map((node) => ({ host: node.options.host as string, port: node.options.port as number }));
  return { client, owned: false, openSubscriber: clusterSubscriber(ioredis, cluster, seeds, options) };
}

/** A redis server answers PING in plain text (+PONG, or an error such as -NOAUTH); a TLS port closes instead. */
const REDIS_PLAIN: PlainProtocol = { name: 'redis', request: 'PING\r\n', answers: (reply) => /^[+-]/.test(reply) };

/** How long a bootstrap that failed may spend finding out whether TLS is to blame. */
const TLS_PROBE_MS = 1_000;

async function unreachable(settings: RedisDriverSettings, reason: string): Promise<LockerConfigError> {
  const { topology } = settings;
  const probe = { address: firstAddress(topology), plain: REDIS_PLAIN, ms: Math.min(settings.connectTimeout, TLS_PROBE_MS) };
  const tls = await explainTlsFailure(settings.section, settings.tls, reason, probe);
  if (tls) {
    return new LockerConfigError({
      section: tls.section,
      field: tls.field,
      message: `${tls.hint}; connecting to ${describeTopology(topology)}: ${reason}`,
    });
  }
  // the sentinels, not the master, refused us: their password is sentinel_auth, not auth
  const sentinelsRefused =
    topology.kind === 'sentinel' && /All sentinels are unreachable.*(NOAUTH|WRONGPASS|invalid password)/s.test(reason);
  return new LockerConfigError({
    section: settings.section,
    field: sentinelsRefused ? 'sentinel_auth' : topologyField(topology),
    message: `${sentinelsRefused ? 'the sentinels refused our credentials; expected sentinel_auth (and sentinel_username) they accept: ' : ''}cannot reach ${describeTopology(topology)}: ${reason}`,
  });
}

/** The server the client reaches first: the one of `addr`, the first sentinel or seed node. */
function firstAddress(topology: RedisTopology): ProbeAddress | undefined {
  if (topology.kind === 'server') return { host: topology.host, port: topology.port };
  if (topology.kind === 'sentinel') return topology.sentinels[0];
  if (topology.kind === 'cluster') return topology.nodes[0];
  return undefined;
}

/**
 * Release notifications in a cluster. SPUBLISH: a cluster client whose sharded subscribers listen on the
 * master that owns each waited key's slot (a connection per such master); it follows slots that move and
 * reconnects by itself. Classic PUBLISH reaches every node, so one plain connection to any node hears all
 * releases; it gives up on a node that stays away (the subscriber then opens another).
 */
function clusterSubscriber(
  ioredis: typeof IORedis,
  cluster: IORedis.Cluster,
  seeds: RedisNodeAddress[],
  options: IORedis.RedisOptions,
): (announcing: ReleaseAnnouncing) => SubscriberConnection {
  return (announcing) => {
    const known = cluster.nodes('all').map((node) => ({ host: node.options.host as string, port: node.options.port as number }));
    const candidates = known.length > 0 ? known : seeds;
    if (announcing === 'SPUBLISH') {
      const subscriber = new ioredis.Cluster(candidates, { ...CLUSTER_OPTIONS, shardedSubscribers: true, redisOptions: options });
      return failStrandedOnDisconnect(refreshSlotsEvery(subscriber, SLOTS_REFRESH_MS));
    }
    const node = candidates[Math.floor(Math.random() * candidates.length)];
    return failStrandedOnDisconnect(
      new ioredis.Redis({ ...options, ...node, retryStrategy: (attempt) => (attempt > 3 ? null : attempt * 100) }),
    );
  };
}
