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
  private names?: Set<string>;
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
  ) {}

  /** A read of the queue is about to be sent. */
  sending(): void {
    this.seenDuringRead = new Set();
    this.epochAtSend = this.epochNow();
  }

  /** The read's answer. */
  answered({ names, complete }: AheadRead): void {
    const seen = this.seenDuringRead ?? new Set<string>();
    this.names = new Set(names.filter((name) => !seen.has(name)));
    this.complete = complete;
    this.epoch = this.epochAtSend;
    this.seenDuringRead = undefined;
    this.readAt = monotonicNow();
  }

  /** A delete under the prefix; true when the waiter should look now (it may be first, or its entry is gone). */
  deleted(name: string | undefined): boolean {
    if (name === undefined) return true;
    if (name === this.ownName) this.ownDeleted = true;
    this.seenDuringRead?.add(name);
    return this.ownDeleted || (this.names !== undefined && this.names.delete(name) && this.names.size === 0);
  }

  /** Something was read. */
  get known(): boolean {
    return this.names !== undefined;
  }

  /** No entry is ahead any more (as read, less the deletes seen since). */
  get noneAhead(): boolean {
    return this.names !== undefined && this.names.size === 0 && this.complete;
  }

  /**
   * What was read still holds: the watch has been live without a gap since the read was
   * sent, so every delete since was seen, and our own entry (there at the read) is not among them.
   */
  get followed(): boolean {
    if (this.names === undefined || (this.names.size === 0 && !this.complete)) return false; // the rest of a long queue is unread
    return this.epoch !== undefined && this.epoch === this.epochNow() && !this.ownDeleted;
  }
}
