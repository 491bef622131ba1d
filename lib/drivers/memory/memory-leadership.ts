import type { LeaderWatch } from '../../interfaces/locker-driver.interface';

/**
 * Elections in memory: the observers of each election's queue, told (synchronously) whenever its holders
 * change or its leader proclaims; each then reads the leader again.
 */
export class MemoryLeadership {
  private readonly observers = new Map<string, Set<() => void>>();

  /** Calls `look` now (in a microtask) and at every change of queue `id`, until closed. */
  watch(id: string, look: () => void): LeaderWatch {
    const observers = this.observers.get(id) ?? new Set();
    observers.add(look);
    this.observers.set(id, observers);
    queueMicrotask(look);
    return {
      close: () => {
        observers.delete(look);
        if (observers.size === 0 && this.observers.get(id) === observers) this.observers.delete(id);
      },
    };
  }

  /** The holders of queue `id`, or its leader's value, may have changed. */
  changed(id: string): void {
    this.observers.get(id)?.forEach((observer) => observer());
  }

  clear(): void {
    this.observers.clear();
  }
}
