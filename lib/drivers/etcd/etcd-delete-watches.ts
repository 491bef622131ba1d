import type { Etcd3 } from 'etcd3';
import type { QueueResource } from '../../lock/local-wait-queues';
import { LastingWatch } from './etcd-lasting-watch';

/**
 * Lock entries are `<prefix><URI-encoded key>/<hex>`; a NUL-led name is never one. The keeper sits under a
 * lock's prefix, so a user whose role covers only the key prefix may watch it; it is never written.
 */
const WATCH_STREAM_KEEPER = '\0watch-stream-keeper';

/** Called with the name of each entry deleted under the prefix; with none when deletes may have gone unseen. */
export type OnDelete = (deletedName?: string) => void;

interface PrefixWatch {
  watch: LastingWatch;
  /** Changes whenever the watch's flow of deletes may have a gap (not yet confirmed, disconnected, made again). */
  epoch?: number;
}

/** The etcd driver's watches on deletes under a lock's prefix, which wake its local waiters. */
export class EtcdDeleteWatches {
  private streamKeeper?: LastingWatch;
  private readonly watches = new Map<string, PrefixWatch>();
  private epochs = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly onDelete: (lockPrefix: string, deletedName?: string) => void,
  ) {}

  /**
   * Reports every delete under the prefix to `onDelete` while the resource is open (the local wait queue
   * keeps it a while after a hot key's last waiter got the lock). The watch starts at the current revision (a past start revision would leave
   * it to etcd's 100 ms catch-up loop); a waiter trusts what it read only if the watch was live when it
   * sent the read and has been since (`epoch`), so no delete falls between the two.
   */
  watch(lockPrefix: string): QueueResource {
    const open = this.open(lockPrefix);
    return { ready: open.watch.ready, close: () => this.drop(lockPrefix, open) };
  }

  /**
   * Identifies an unbroken stretch of the prefix's watch: two equal answers mean every delete between
   * them was reported. Undefined while no confirmed watch is there.
   */
  epoch(lockPrefix: string): number | undefined {
    return this.watches.get(lockPrefix)?.epoch;
  }

  close(): void {
    this.streamKeeper?.close();
    for (const [lockPrefix, open] of this.watches) this.drop(lockPrefix, open);
  }

  private open(lockPrefix: string): PrefixWatch {
    this.keepWatchStreamOpen(lockPrefix);
    const open = {} as PrefixWatch;
    open.watch = new LastingWatch(
      () => this.client.watch().prefix(lockPrefix).only('delete'),
      (deleted) => this.onDelete(lockPrefix, deleted),
      (live) => (open.epoch = live ? ++this.epochs : undefined),
    );
    this.watches.set(lockPrefix, open);
    return open;
  }

  private drop(lockPrefix: string, open: PrefixWatch): void {
    if (this.watches.get(lockPrefix) === open) this.watches.delete(lockPrefix);
    open.epoch = undefined;
    open.watch.close();
  }

  /**
   * etcd3 closes its watch stream when its last watcher goes, and opening one again costs milliseconds
   * on every wait; one idle watcher on a key no lock uses keeps the stream open.
   */
  private keepWatchStreamOpen(lockPrefix: string): void {
    this.streamKeeper ??= new LastingWatch(
      () => this.client.watch().key(lockPrefix + WATCH_STREAM_KEEPER),
      () => undefined,
    );
  }
}
