import type { Lock } from './lock.interface';

/** Options of `LockerService.election(name, options)`. */
export interface ElectionOptions {
  /** Lease of the leadership, renewed while this instance leads; a leader that dies is followed this long after. @default 60_000 */
  ttl?: number;
  /** The locker section. @default 'locker' */
  locker?: string;
  /** What this instance proclaims once it leads (its URL, say): followers read it in `leader()` and `observe()`. */
  value?: string;
}

/** Options of one `campaign()`. */
export interface CampaignOptions {
  /** Stops waiting: the campaign rejects with the signal's reason and leaves nothing behind. */
  signal?: AbortSignal;
  /** Give up after this many ms with a `LockWaitTimeoutError`. @default wait until elected */
  waitTime?: number;
}

/** Who leads an election, as the server has it. */
export interface LeaderInfo {
  /** The driver instance that leads (random per process and connection section). */
  id: string;
  host: string;
  pid: number;
  /** The leadership's fencing token: it grows with every new term, across restarts. */
  term: bigint;
  /** What the leader proclaimed (`ElectionOptions.value`), if anything. */
  value?: string;
}

/**
 * One election of an app (`LockerService.election(name)`): this instance's candidacy, and a view of who leads.
 * A leader holds a lock of kind `leader` on the name; it proclaims its `value` once it holds it.
 */
export interface Election {
  /** The election's name (its key). */
  readonly name: string;
  /**
   * Waits until this instance leads, then resolves with the leadership lock: its fencing token is the term,
   * and its `signal` aborts when leadership ends (lost, resigned, shutdown). Already leading: that lock.
   */
  campaign(options?: CampaignOptions): Promise<Lock>;
  /** Ends this instance's leadership (or its campaign); the next candidate leads within about one round trip. */
  resign(): Promise<void>;
  /** Who leads now, read from the server; null when no one has proclaimed leadership. */
  leader(): Promise<LeaderInfo | null>;
  /**
   * The leader now, then each change, in order (terms only grow), as the server tells of them (no polling); it
   * looks again after a reconnect, a compaction or a server restart. Ends on `signal` or at shutdown.
   */
  observe(signal?: AbortSignal): AsyncIterable<LeaderInfo | null>;
  /** True while this instance leads (its leadership lock is held). */
  readonly isLeader: boolean;
}

/** Options of `@OnLeadership`: the election's, and the pause before campaigning again. */
export interface OnLeadershipOptions extends ElectionOptions {
  /** Ms between the end of a leadership (the method returned, threw or lost it) and the next campaign. @default 1000 */
  retryInterval?: number;
}
