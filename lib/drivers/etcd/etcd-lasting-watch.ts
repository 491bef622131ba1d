import type { Watcher } from 'etcd3';
import { monotonicNow } from '../../utils/clock';

/** A watch that etcd keeps cancelling is created again at once, then at most this often. */
const REWATCH_MIN_INTERVAL_MS = 1_000;

/**
 * A watch that outlives etcd's cancellation. etcd3 resumes a watch after a reconnect from the revision it
 * saw last; if etcd has compacted past it meanwhile, etcd cancels the watch, and etcd3 drops it for good.
 * Then the watch is created again from the current revision, and `wake` is called once it exists, so the
 * waiters read the server again: what happened between the two revisions is seen by that read.
 * `wake` is also called on every delete and on every disconnect and reconnect of the stream. A watch that
 * could not be made is tried again too.
 */
export class LastingWatch {
  /** Settles once the first watch exists (rejects if it could not be made). */
  readonly ready: Promise<Watcher>;
  private current: Promise<Watcher>;
  private closed = false;
  private lastReopenedAt = -Infinity;

  constructor(
    private readonly create: () => Promise<Watcher>,
    private readonly wake: () => void,
  ) {
    this.ready = this.current = this.open();
  }

  close(): void {
    this.closed = true;
    void this.current.then((watcher) => watcher.cancel()).catch(() => undefined);
  }

  private open(): Promise<Watcher> {
    const watching = this.create();
    watching.then(
      (watcher) => {
        if (this.closed) return void watcher.cancel().catch(() => undefined);
        const wake = this.wake;
        // 'error' is etcd cancelling the watch (a compacted revision): etcd3 no longer feeds it
        watcher
          .on('delete', wake)
          .on('disconnected', wake)
          .on('connected', wake)
          .on('error', () => this.reopen());
      },
      () => this.reopen(),
    );
    return watching;
  }

  private reopen(): void {
    if (this.closed) return;
    const wait = Math.max(0, this.lastReopenedAt + REWATCH_MIN_INTERVAL_MS - monotonicNow());
    setTimeout(() => {
      if (this.closed) return;
      this.lastReopenedAt = monotonicNow();
      this.current = this.open();
      this.current.then(this.wake, this.wake);
    }, wait).unref();
  }
}
