import type { Etcd3 } from 'etcd3';
import type { QueueResource } from '../../lock/local-wait-queues';
import { LastingWatch } from './etcd-lasting-watch';

/**
 * Lock entries are `<prefix><URI-encoded key>/<hex>`; a NUL-led name is never one. The keeper sits under a
 * lock's prefix, so a user whose role covers only the key prefix may watch it; it is never written.
 */
const WATCH_STREAM_KEEPER = '\0watch-stream-keeper';

/** The etcd driver's watches on deletes under a lock's prefix, which wake its local waiters. */
export class EtcdDeleteWatches {
  private streamKeeper?: LastingWatch;

  constructor(private readonly client: Etcd3) {}

  /**
   * Calls `wake` on every delete under the prefix. The watch starts at the current
   * revision (a past start revision would leave it to etcd's 100 ms catch-up loop); the waiter reads
   * its predecessor only once the watch exists, so no delete falls between the two.
   */
  watch(lockPrefix: string, wake: () => void): QueueResource {
    this.keepWatchStreamOpen(lockPrefix);
    const watch = new LastingWatch(() => this.client.watch().prefix(lockPrefix).only('delete'), wake);
    return { ready: watch.ready, close: () => watch.close() };
  }

  close(): void {
    this.streamKeeper?.close();
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
