import { monotonicNow } from './clock';
import { MinHeap } from './min-heap';

/**
 * Many timers as one: items due within the same `slotMs` share a slot, and one Node timer per wheel is
 * armed for the earliest slot (which fires at its start: never later than due, up to `slotMs` early).
 * An item costs two collection entries, not a Node timer (about 260 bytes), which matters with ten
 * thousand held locks; and a lock taken and released in between costs no timer call at all (an
 * uncontended cycle armed and cleared two per lock before, a tenth of its client CPU).
 */
/** Emptied slots tolerated before compacting, whatever the live ones. */
const COMPACT_AFTER = 1_000;

export class SlotTimer<T> {
  /** Slot start → its items; a start stays (empty: undefined) until its time, since the heap holds it. */
  private readonly slots = new Map<number, Set<T> | undefined>();
  private readonly starts = new MinHeap();
  /** Emptied slots still in the heap: compacted away once they outnumber the live ones (far deadlines, cancelled). */
  private emptySlots = 0;
  private readonly slotOf = new Map<T, number>();
  private timer?: NodeJS.Timeout;
  /** The slot start the timer is armed for. */
  private armedFor = Infinity;
  private firing = false;

  /** `keepProcessAlive`: like a ref'd Node timer while any item is scheduled; otherwise unref'd. */
  constructor(
    private readonly onDue: (item: T) => void,
    private readonly keepProcessAlive: boolean,
    private readonly slotMs = 10,
  ) {}

  /** Calls `onDue(item)` at monotonic time `at` or up to `slotMs` before; replaces an earlier schedule. */
  schedule(item: T, at: number): void {
    this.cancel(item);
    const start = Math.floor(at / this.slotMs) * this.slotMs;
    let items = this.slots.get(start);
    if (!items) {
      if (this.slots.has(start)) this.emptySlots--;
      else this.starts.push(start);
      items = new Set();
      this.slots.set(start, items);
    }
    items.add(item);
    this.slotOf.set(item, start);
    if (this.slotOf.size === 1 && this.keepProcessAlive) this.timer?.ref();
    if (start < this.armedFor && !this.firing) this.arm();
  }

  cancel(item: T): void {
    const start = this.slotOf.get(item);
    if (start === undefined) return;
    this.slotOf.delete(item);
    const items = this.slots.get(start);
    if (!items) return; // its slot is firing right now: fire() skips items no longer scheduled there
    items.delete(item);
    // the start stays in the heap: the timer, armed for it or later, finds it empty and moves on
    if (items.size === 0) {
      this.slots.set(start, undefined);
      if (++this.emptySlots > COMPACT_AFTER && this.emptySlots > 2 * (this.slots.size - this.emptySlots)) this.compact();
    }
    if (this.slotOf.size === 0) this.timer?.unref(); // nothing due: a closed app is free to exit
  }

  /** Slots kept, live or emptied (what the timer's memory grows with). */
  get slotCount(): number {
    return this.slots.size;
  }

  has(item: T): boolean {
    return this.slotOf.has(item);
  }

  clear(): void {
    this.emptySlots = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    this.slots.clear();
    this.slotOf.clear();
    this.starts.clear();
  }

  /** Drops the emptied slots (with far deadlines cancelled by the thousand, they would pile up until their time). */
  private compact(): void {
    for (const [start, items] of this.slots) if (!items) this.slots.delete(start);
    this.starts.clear();
    for (const start of this.slots.keys()) this.starts.push(start);
    this.emptySlots = 0;
    if (!this.firing) this.arm();
  }

  /** Arms the one Node timer for the earliest slot start. */
  private arm(): void {
    const next = this.starts.peek();
    if (next === this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = next ?? Infinity;
    if (next === undefined) return void (this.timer = undefined);
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - monotonicNow()));
    if (!this.keepProcessAlive || this.slotOf.size === 0) this.timer.unref();
  }

  private fire(): void {
    this.armedFor = Infinity;
    this.timer = undefined;
    this.firing = true;
    try {
      // a Node timer counts from the loop's cached time and may fire a little before the monotonic clock
      // reaches the start; items of a slot may be called up to slotMs early anyway
      const now = monotonicNow() + 1;
      // the starts due now, taken first: an item scheduled again into the past waits for the next turn
      const due: number[] = [];
      while ((this.starts.peek() ?? Infinity) <= now) due.push(this.starts.pop() as number);
      for (const start of due) {
        const items = this.slots.get(start);
        if (!items && this.slots.has(start)) this.emptySlots--;
        this.slots.delete(start);
        for (const item of items ?? []) {
          // an earlier item's onDue may have cancelled or rescheduled this one
          if (this.slotOf.get(item) !== start) continue;
          this.slotOf.delete(item);
          this.onDue(item);
        }
      }
    } finally {
      this.firing = false;
      this.arm();
    }
  }
}
