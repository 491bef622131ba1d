import type { Lock } from '../interfaces/lock.interface';
import { monotonicNow } from '../utils/clock';
import { HeldLock } from './held-lock';

/**
 * Locks whose body ended inside its `minHold` (ShedLock's lockAtLeastFor): each is released when its
 * minHold ends. At shutdown it is not released, or the next node would run the same tick again: its lease
 * is cut to what remains, and the server frees it then.
 */
export class MinHolds {
  private readonly holds = new Map<Lock, { timer: NodeJS.Timeout; until: number }>();

  add(lock: Lock, ms: number): void {
    this.hold(lock, monotonicNow() + ms);
  }

  /** Releases `lock` at `until`, never before: a Node timer counts from the loop's cached time and can fire early. */
  private hold(lock: Lock, until: number): void {
    const timer = setTimeout(
      () => {
        if (monotonicNow() < until) return this.hold(lock, until);
        this.holds.delete(lock);
        lock.release().catch(() => undefined); // unanswered: logged by the lock, which ends with its lease
      },
      Math.ceil(until - monotonicNow()),
    );
    timer.unref(); // a running app is kept alive by the lock's lease; a closed one must be free to exit
    this.holds.set(lock, { timer, until });
  }

  /** Leaves every lock to expire at the end of its minHold; one past it, or whose lease cannot be cut, is released. */
  async leaveToExpire(): Promise<void> {
    const holds = [...this.holds];
    this.clear();
    await Promise.allSettled(
      holds.map(async ([lock, { until }]) => {
        const remaining = Math.ceil(until - monotonicNow());
        if (remaining > 0 && lock.held && lock instanceof HeldLock) {
          const cut = await lock.expireIn(remaining).then(
            () => true,
            () => false,
          );
          if (cut) return;
        }
        await lock.release();
      }),
    );
  }

  has(lock: Lock): boolean {
    return this.holds.has(lock);
  }

  clear(): void {
    for (const { timer } of this.holds.values()) clearTimeout(timer);
    this.holds.clear();
  }
}
