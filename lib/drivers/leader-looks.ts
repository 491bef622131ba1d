import { pauseBeforeRetry } from '../acquisition/outage-backoff';
import type { LeaderInfo } from '../interfaces/election.interface';

/** One read of an election's leader, and when to read again if nothing is announced (its lease end). */
export interface LeaderLook {
  leader: LeaderInfo | null;
  recheckInMs?: number;
}

/**
 * The reads behind a driver's `watchLeader`: each hint (a message, a watch event, a reconnect) asks for a
 * look; one read is in flight at a time, and hints that come meanwhile make one more read after it, so the
 * looks reach the observer in the server's order. A read that fails is tried again after a pause that grows
 * (the server may be restarting); a read that found a lease is made again when the lease would end.
 */
export class LeaderLooks {
  private reading = false;
  /** A hint came while a read was in flight. */
  private stale = false;
  private failures = 0;
  private closed = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly read: () => Promise<LeaderLook>,
    private readonly look: (leader: LeaderInfo | null) => void,
  ) {}

  /** Something may have changed: look. */
  again(): void {
    if (this.closed) return;
    if (this.reading) {
      this.stale = true;
      return;
    }
    void this.readUntilCurrent();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async readUntilCurrent(): Promise<void> {
    this.reading = true;
    try {
      do {
        this.stale = false;
        clearTimeout(this.timer);
        let found: LeaderLook;
        try {
          found = await this.read();
        } catch {
          this.lookIn(pauseBeforeRetry(++this.failures));
          continue;
        }
        this.failures = 0;
        if (this.closed) return;
        this.look(found.leader);
        if (found.recheckInMs !== undefined) this.lookIn(found.recheckInMs);
      } while (this.stale && !this.closed);
    } finally {
      this.reading = false;
    }
  }

  private lookIn(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.again(), ms);
    this.timer.unref();
  }
}
