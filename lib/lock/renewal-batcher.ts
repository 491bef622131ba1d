import type { HeldLock } from './held-lock';
import { monotonicNow } from '../utils/clock';

/** Per lock: true = renewed, false = refused by the server (not ours any more), Error = no answer. */
export type RenewalResult = boolean | Error;

/**
 * Keep-alive for drivers that renew lock by lock (redis, memory): every lock is due `ttl / 3` after its
 * last confirmed renewal was sent; all locks due in the same tick go to the server in one call.
 * One renewal per lock is in flight at a time. A renewal without an answer is retried quickly until
 * the lock's own deadline declares it lost.
 */
export class RenewalBatcher {
  private readonly timers = new Map<HeldLock, NodeJS.Timeout>();
  private due: HeldLock[] = [];
  private flushQueued = false;

  constructor(private readonly renewMany: (locks: HeldLock[]) => Promise<RenewalResult[]>) {}

  /** Renews `lock` every ttl / 3 from now on; tracking it again (after extend) restarts its schedule. */
  track(lock: HeldLock): void {
    clearTimeout(this.timers.get(lock));
    this.schedule(lock, lock.ttl / 3);
  }

  untrack(lock: HeldLock): void {
    clearTimeout(this.timers.get(lock));
    this.timers.delete(lock);
  }

  get size(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.due = [];
  }

  private schedule(lock: HeldLock, delay: number): void {
    const timer = setTimeout(() => this.enqueue(lock), Math.max(0, delay));
    timer.unref();
    this.timers.set(lock, timer);
  }

  private enqueue(lock: HeldLock): void {
    this.due.push(lock);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.due.filter((lock) => this.timers.has(lock) && !lock.settled);
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
    if (!this.timers.has(lock) || lock.settled) return;
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
