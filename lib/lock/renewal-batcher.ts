import type { HeldLock } from './held-lock';
import { monotonicNow } from '../utils/clock';
import { SlotTimer } from '../utils/slot-timer';

/** Per lock: true = renewed, false = refused by the server (not ours any more), Error = no answer. */
export type RenewalResult = boolean | Error;

/**
 * Keep-alive for drivers that renew lock by lock (redis, memory): every lock is due `ttl / 3` after its
 * last confirmed renewal was sent; all locks due in the same tick go to the server in one call.
 * One renewal per lock is in flight at a time. A renewal without an answer is retried quickly until
 * the lock's own deadline declares it lost.
 */
export class RenewalBatcher {
  private readonly tracked = new Set<HeldLock>();
  /** Renewals fall due on shared timers, a few ms early at most. */
  private readonly timers = new SlotTimer<HeldLock>((lock) => this.enqueue(lock), false);
  private due: HeldLock[] = [];
  private flushQueued = false;

  constructor(private readonly renewMany: (locks: HeldLock[]) => Promise<RenewalResult[]>) {}

  /**
   * Renews `lock` every ttl / 3, the first time at `firstDueAt` (monotonic; default ttl / 3 after its last
   * confirmed command was sent); tracking it again (after extend) restarts its schedule.
   */
  track(lock: HeldLock, firstDueAt = lock.renewedSentAt + lock.ttl / 3): void {
    this.tracked.add(lock);
    this.schedule(lock, firstDueAt - monotonicNow());
  }

  untrack(lock: HeldLock): void {
    this.tracked.delete(lock);
    this.timers.cancel(lock);
  }

  get size(): number {
    return this.tracked.size;
  }

  stop(): void {
    this.tracked.clear();
    this.timers.clear();
    this.due = [];
  }

  private schedule(lock: HeldLock, delay: number): void {
    this.timers.schedule(lock, monotonicNow() + Math.max(0, delay));
  }

  private enqueue(lock: HeldLock): void {
    this.due.push(lock);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.due.filter((lock) => this.tracked.has(lock) && !lock.settled);
    this.due = [];
    if (batch.length === 0) return;
    const sentAt = monotonicNow();
    const ttls = batch.map((lock) => lock.ttl); // what renewMany sends
    let results: RenewalResult[];
    try {
      results = await this.renewMany(batch);
    } catch (error) {
      results = batch.map(() => (error instanceof Error ? error : new Error(String(error))));
    }
    batch.forEach((lock, index) => this.settle(lock, results[index], sentAt, ttls[index]));
  }

  private settle(lock: HeldLock, result: RenewalResult, sentAt: number, ttl: number): void {
    if (!this.tracked.has(lock) || lock.settled) return;
    if (result === true) {
      lock.confirm(sentAt, ttl);
      this.schedule(lock, Math.max(sentAt, lock.renewedSentAt) + lock.ttl / 3 - monotonicNow());
    } else if (result === false) {
      lock.lose('refused', 'the server no longer has it under our token');
    } else {
      lock.renewalFailed(result);
      this.schedule(lock, Math.min(lock.ttl / 10, 1000));
    }
  }
}
