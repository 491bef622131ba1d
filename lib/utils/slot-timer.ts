import { monotonicNow } from './clock';

interface Slot<T> {
  items: Set<T>;
  timer: NodeJS.Timeout;
}

/**
 * Many timers as few: items due within the same `slotMs` share one Node timer, which fires at the start
 * of their slot (never later than due, up to `slotMs` early). A Node timer costs about 260 bytes of
 * heap; an item here costs two collection entries, which matters with ten thousand held locks.
 */
export class SlotTimer<T> {
  private readonly slots = new Map<number, Slot<T>>();
  private readonly slotOf = new Map<T, number>();

  /** `keepProcessAlive`: like a ref'd Node timer; otherwise unref'd. */
  constructor(
    private readonly onDue: (item: T) => void,
    private readonly keepProcessAlive: boolean,
    private readonly slotMs = 10,
  ) {}

  /** Calls `onDue(item)` at monotonic time `at` or up to `slotMs` before; replaces an earlier schedule. */
  schedule(item: T, at: number): void {
    this.cancel(item);
    const start = Math.floor(at / this.slotMs) * this.slotMs;
    let slot = this.slots.get(start);
    if (!slot) {
      const timer = setTimeout(() => this.fire(start), Math.max(0, start - monotonicNow()));
      if (!this.keepProcessAlive) timer.unref();
      slot = { items: new Set(), timer };
      this.slots.set(start, slot);
    }
    slot.items.add(item);
    this.slotOf.set(item, start);
  }

  cancel(item: T): void {
    const start = this.slotOf.get(item);
    if (start === undefined) return;
    this.slotOf.delete(item);
    const slot = this.slots.get(start);
    if (!slot) return; // its slot is firing right now: fire() skips items no longer scheduled there
    slot.items.delete(item);
    if (slot.items.size > 0) return;
    clearTimeout(slot.timer);
    this.slots.delete(start);
  }

  has(item: T): boolean {
    return this.slotOf.has(item);
  }

  clear(): void {
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    this.slots.clear();
    this.slotOf.clear();
  }

  private fire(start: number): void {
    const slot = this.slots.get(start);
    if (!slot) return;
    this.slots.delete(start);
    for (const item of slot.items) {
      // an earlier item's onDue may have cancelled or rescheduled this one
      if (this.slotOf.get(item) !== start) continue;
      this.slotOf.delete(item);
      this.onDue(item);
    }
  }
}
