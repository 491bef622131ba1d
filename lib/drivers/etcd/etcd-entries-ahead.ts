import { monotonicNow } from '../../utils/clock';
import type { EntriesAheadRead } from './etcd-queue';

/** What one read of the queue found ahead of our entry (every entry with a lower create revision). */
export interface AheadRead {
  names: string[];
  /** False when etcd returned only the first of them (a long queue): once those are gone, read again. */
  complete: boolean;
}

/**
 * The entries ahead of a waiting entry, followed through the prefix's delete watch instead of read again
 * after every delete: the queue is FIFO, nothing can enter ahead of us, so once the entries ahead are
 * deleted, ours holds the lock. A read is trusted only if the watch was live when it was sent and has
 * been without a gap since (the same `epoch`); deletes seen while the read was on its way are applied
 * to its answer. The delete of our own entry (its lease gone) is seen the same way.
 */
export class EntriesAhead implements EntriesAheadRead {
  /** The names read ahead of ours, oldest first, less those deleted since. */
  private names?: string[];
  private complete = false;
  /** The watch's epoch when the read behind `names` was sent. */
  private epoch?: number;
  /** Deletes seen since the read on its way was sent. */
  private seenDuringRead?: Set<string>;
  private epochAtSend?: number;
  /** Our own entry was deleted. */
  ownDeleted = false;
  /** When `names` was read (monotonic ms). */
  readAt = -Infinity;

  constructor(
    readonly ownName: string,
    /** The prefix's delete watch's epoch now (EtcdDeleteWatches.epoch). */
    private readonly epochNow: () => number | undefined,
    /** Whether our entry may hold behind these (oldest first): the kind's rule. Default: a mutex's, none ahead. */
    private readonly rule: (ahead: readonly string[]) => boolean = (ahead) => ahead.length === 0,
  ) {}

  /** A read of the queue is about to be sent. */
  sending(): void {
    this.seenDuringRead = new Set();
    this.epochAtSend = this.epochNow();
  }

  /** The read's answer. */
  answered({ names, complete }: AheadRead): void {
    const seen = this.seenDuringRead ?? new Set<string>();
    this.names = names.filter((name) => !seen.has(name));
    this.complete = complete;
    this.epoch = this.epochAtSend;
    this.seenDuringRead = undefined;
    this.readAt = monotonicNow();
  }

  /** A delete under the prefix; true when the waiter should look now (it may hold now, or its entry is gone). */
  deleted(name: string | undefined): boolean {
    if (name === undefined) return true;
    if (name === this.ownName) this.ownDeleted = true;
    this.seenDuringRead?.add(name);
    if (this.ownDeleted) return true;
    const index = this.names?.indexOf(name) ?? -1;
    if (index < 0) return false;
    this.names!.splice(index, 1);
    return this.names!.length === 0 || this.mayHold;
  }

  /** Something was read. */
  get known(): boolean {
    return this.names !== undefined;
  }

  /** Our entry may hold now, as read less the deletes seen since (all of the queue ahead must be known). */
  get mayHold(): boolean {
    return this.names !== undefined && this.complete && this.rule(this.names);
  }

  /**
   * What was read still holds: the watch has been live without a gap since the read was
   * sent, so every delete since was seen, and our own entry (there at the read) is not among them.
   */
  get followed(): boolean {
    if (this.names === undefined || (this.names.length === 0 && !this.complete)) return false; // the rest of a long queue is unread
    return this.epoch !== undefined && this.epoch === this.epochNow() && !this.ownDeleted;
  }
}
