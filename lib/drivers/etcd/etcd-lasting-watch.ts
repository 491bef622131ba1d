import type { IKeyValue, WatchBuilder, Watcher } from 'etcd3';
import { monotonicNow } from '../../utils/clock';

/** A watch that etcd keeps cancelling is created again at once, then at most this often. */
const REWATCH_MIN_INTERVAL_MS = 1_000;

/**
 * A watch that outlives etcd's cancellation. etcd3 resumes a watch after a reconnect from the revision it
 * saw last; if etcd has compacted past it meanwhile, etcd cancels the watch, and etcd3 drops it for good.
 * Then the watch is created again from the current revision, and `wake` is called once it exists, so the
 * waiters read the server again: what happened between the two revisions is seen by that read.
 * `wake` is also called on every delete (with the deleted key's name), on every put the watch asks for, and on
 * every disconnect and reconnect of the stream (with none); `onLive` tells when deletes flow (confirmed, reconnected) and when they may not.
 * A watch that could not be made is tried again too.
 *
 * The watcher is held from the moment it is made, not from when etcd confirms it: one closed before that (its
 * stream down at shutdown) is cancelled all the same. etcd3 would otherwise keep it, and with it a reconnect
 * loop that outlives the client and keeps the process alive.
 */
export class LastingWatch {
  /** Settles once the first watch exists (rejects if it could not be made). */
  readonly ready: Promise<Watcher>;
  private current: Watcher;
  private closed = false;
  private lastReopenedAt = -Infinity;

  constructor(
    private readonly build: () => WatchBuilder,
    private readonly wake: (deletedName?: string) => void,
    private readonly onLive: (live: boolean) => void = () => undefined,
  ) {
    const { watcher, confirmed } = this.open();
    this.current = watcher;
    this.ready = confirmed;
  }

  close(): void {
    this.closed = true;
    this.current.cancel().catch(() => undefined);
  }

  private open(): { watcher: Watcher; confirmed: Promise<Watcher> } {
    // watcher() is create() without its wait for etcd's confirmation, which is made here
    const watcher = this.build().watcher();
    const { wake, onLive } = this;
    // an 'error' is etcd cancelling the watch (a compacted revision): etcd3 no longer feeds it
    watcher
      .on('delete', (kv: IKeyValue) => wake(kv.key.toString()))
      .on('put', () => wake()) // only watches that ask for puts (an election's observers) hear them
      .on('disconnected', () => {
        onLive(false);
        wake();
      })
      .on('connected', () => {
        onLive(true);
        wake();
      })
      .on('error', () => {
        onLive(false);
        this.reopen();
      });
    const confirmed = new Promise<Watcher>((resolve, reject) => {
      watcher.once('connected', () => resolve(watcher));
      watcher.once('error', reject);
    });
    confirmed.catch(() => undefined); // a watch that could not be made is made again (above)
    return { watcher, confirmed };
  }

  private reopen(): void {
    if (this.closed) return;
    const wait = Math.max(0, this.lastReopenedAt + REWATCH_MIN_INTERVAL_MS - monotonicNow());
    setTimeout(() => {
      if (this.closed) return;
      this.lastReopenedAt = monotonicNow();
      const { watcher, confirmed } = this.open();
      this.current = watcher;
      confirmed.then(
        () => this.wake(),
        () => this.wake(),
      );
    }, wait).unref();
  }
}
