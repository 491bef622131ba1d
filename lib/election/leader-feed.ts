import type { LeaderInfo } from '../interfaces/election.interface';

/** `LeaderFeed.next()` when the observer's signal (or shutdown) ended it. */
export const FEED_ENDED = Symbol('feed ended');

/** How many changes wait for a slow observer before the oldest are dropped (it still ends at the truth). */
const MAX_PENDING = 256;

const sameLeader = (a: LeaderInfo | null, b: LeaderInfo | null): boolean =>
  a === b || (a !== null && b !== null && a.id === b.id && a.term === b.term && a.value === b.value);

/**
 * What one observer of an election is told: each leader the driver looked at, once (a look that finds what
 * the last one found is no change), in order, and never a term older than one already told (a replica that
 * lags behind, a late answer), until the observer stops.
 */
export class LeaderFeed {
  private readonly pending: (LeaderInfo | null)[] = [];
  /** The last state taken in (told or pending); undefined before the first look. */
  private latest?: LeaderInfo | null;
  private highestTerm = -1n;
  private wake?: () => void;

  /** A look's result (the driver's `watchLeader` callback). */
  readonly push = (leader: LeaderInfo | null): void => {
    if (this.latest !== undefined && sameLeader(this.latest, leader)) return;
    if (leader && leader.term < this.highestTerm) return;
    this.latest = leader;
    if (leader) this.highestTerm = leader.term;
    this.pending.push(leader);
    if (this.pending.length > MAX_PENDING) this.pending.shift();
    this.wake?.();
  };

  /** The next change, waiting for it; FEED_ENDED once `stop` aborts. */
  async next(stop: AbortSignal): Promise<LeaderInfo | null | typeof FEED_ENDED> {
    while (this.pending.length === 0) {
      if (stop.aborted) return FEED_ENDED;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.wake = undefined;
          stop.removeEventListener('abort', done);
          resolve();
        };
        this.wake = done;
        stop.addEventListener('abort', done, { once: true });
      });
    }
    if (stop.aborted) return FEED_ENDED;
    return this.pending.shift() as LeaderInfo | null;
  }
}
