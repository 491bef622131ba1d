import { Logger } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';

/** What the sentinels say of our master: its address, whether a failover is under way, which replicas could take over. */
export interface SentinelState {
  master: string;
  failingOver: boolean;
  /** Replicas the sentinels could promote (see `candidate`). */
  replicas: number;
  /** `ip:port` of every replica the sentinels list (the old master too, after a failover). */
  replicaAddrs: string[];
}

/** How often the sentinels are asked (and after a write the replicas did not all acknowledge). */
export const SENTINEL_VIEW_REFRESH_MS = 1000;

const logger = new Logger('RedisLockDriver');

/** What of a sentinel-mode ioredis client's options the view reads: where the sentinels are and how to log in. */
type SentinelOptions = Pick<
  RedisOptions,
  'sentinels' | 'name' | 'sentinelUsername' | 'sentinelPassword' | 'sentinelTLS' | 'enableTLSForSentinelMode' | 'connectTimeout'
>;

/** A flat [name, value, name, value, ...] reply of SENTINEL MASTER / REPLICAS, as fields. */
function fieldsOf(reply: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  const flat = reply as string[];
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}

const flagsOf = (fields: Record<string, string>): string[] => (fields.flags ?? '').split(',');

/**
 * A replica the sentinels could promote, as their own choice of one goes: not down or disconnected, and heard
 * from (INFO) since they listed it; and one that follows a master (a replica that reports itself master, as the
 * old master does after a failover until the sentinels turn it, acknowledges nothing). A replica just listed
 * shows `info-refresh` 0 and no offset: the old master right after a failover, before the sentinels reach it.
 */
function candidate(replica: Record<string, string>): boolean {
  const flags = flagsOf(replica);
  if (flags.includes('s_down') || flags.includes('o_down') || flags.includes('disconnected')) return false;
  if (replica['info-refresh'] === '0' && replica['slave-repl-offset'] === '0') return false;
  return replica['role-reported'] === 'slave';
}

/** Reads a state from SENTINEL MASTER and SENTINEL REPLICAS replies. */
export function sentinelState(masterReply: unknown, replicasReply: unknown): SentinelState {
  const master = fieldsOf(masterReply);
  const replicas = (replicasReply as unknown[]).map(fieldsOf);
  const promoting = replicas.some((replica) => flagsOf(replica).includes('promoted'));
  return {
    master: `${master.ip}:${master.port}`,
    failingOver: promoting || flagsOf(master).includes('failover_in_progress'),
    replicas: replicas.filter(candidate).length,
    replicaAddrs: replicas.map((replica) => `${replica.ip}:${replica.port}`),
  };
}

/**
 * The sentinels' view of the master a sentinel-mode client uses, asked every second (and on demand) over
 * one connection to one sentinel at a time (the next one if it fails). ioredis only asks them when it
 * connects; a planned failover leaves the old master running, and ioredis on it, for ~11 s after the
 * replica was promoted. `onChange` hears every new state, with the one before (undefined the first time).
 */
export class SentinelView {
  private state?: SentinelState;
  private connection?: Redis;
  private next = 0;
  private refreshing?: Promise<void>;
  private readonly first: Promise<void>;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;
  /** The last refusal logged, so a sentinel that keeps refusing is said once. */
  private lastRefusal?: string;
  /** What the last sentinel asked said when it refused our user the commands (NOPERM) or its credentials. */
  refusal?: string;

  constructor(
    private readonly ioredis: { new (options: RedisOptions): Redis },
    private readonly options: SentinelOptions,
    private readonly commandTimeout: number,
    private readonly onChange: (state: SentinelState, before?: SentinelState) => void,
  ) {
    this.first = this.refresh();
    this.timer = setInterval(() => void this.refresh(), SENTINEL_VIEW_REFRESH_MS);
    this.timer.unref();
  }

  /** The latest state; the first time, once the sentinels answered (or did not, within command_timeout). */
  async current(): Promise<SentinelState | undefined> {
    if (!this.state) await this.first;
    return this.state;
  }

  /** Asks the sentinels now, unless that is already under way. Never rejects. */
  refresh(): Promise<void> {
    this.refreshing ??= this.ask().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.connection?.disconnect();
  }

  private async ask(): Promise<void> {
    const sentinels = this.options.sentinels ?? [];
    if (this.stopped || sentinels.length === 0) return;
    const connection = (this.connection ??= this.connect(sentinels[this.next % sentinels.length]));
    try {
      const name = this.options.name as string;
      const [master, replicas] = await Promise.all([
        connection.call('SENTINEL', 'MASTER', name),
        connection.call('SENTINEL', 'REPLICAS', name),
      ]);
      if (this.stopped) return;
      this.refusal = undefined;
      const before = this.state;
      this.state = sentinelState(master, replicas);
      this.onChange(this.state, before);
    } catch (error) {
      // this sentinel did not answer: the next one is asked next time; the last state stands meanwhile
      const refusal = (error as Error).message;
      if (/^(NOPERM|WRONGPASS|NOAUTH)/.test(refusal)) this.refusal = refusal;
      if (/^(NOPERM|ERR|WRONGPASS|NOAUTH)/.test(refusal) && refusal !== this.lastRefusal) {
        this.lastRefusal = refusal;
        logger.warn(
          `a sentinel refused SENTINEL MASTER or SENTINEL REPLICAS (${refusal}): without them no lock write counts, ` +
            'since the driver cannot tell which replicas could take over; let the sentinel user run them (+sentinel|master +sentinel|replicas)',
        );
      }
      connection.disconnect();
      if (this.connection === connection) this.connection = undefined;
      this.next++;
    }
  }

  private connect(sentinel: Partial<{ host: string; port: number }>): Redis {
    const connection = new this.ioredis({
      host: sentinel.host ?? '127.0.0.1',
      port: sentinel.port ?? 26379,
      username: this.options.sentinelUsername,
      password: this.options.sentinelPassword,
      tls: this.options.enableTLSForSentinelMode ? this.options.sentinelTLS : undefined,
      connectTimeout: this.options.connectTimeout,
      commandTimeout: this.commandTimeout,
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    connection.on('error', () => undefined); // a failed ask says it; the next sentinel is tried
    return connection;
  }
}
