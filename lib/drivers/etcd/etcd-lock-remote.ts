import type { HeldLock, LockRemote } from '../../lock/held-lock';
import type { EtcdLockDriver } from './etcd-lock.driver';
import type { EtcdQueue } from './etcd-queue';
import type { QueueEntry } from './etcd-queue-entry';

/** The server side of one held lock: its queue entry (there may be thousands, so no closures). */
export class EtcdLockRemote implements LockRemote {
  constructor(
    private readonly driver: EtcdLockDriver,
    private readonly queue: EtcdQueue,
    readonly entry: QueueEntry,
  ) {}

  release(): Promise<void> {
    return this.queue.dequeue(this.entry).catch((error: unknown) => this.refused(error));
  }

  /** Set once the lock exists (the lock is built around this remote). */
  lock?: HeldLock;

  extend(ttl: number): Promise<boolean> {
    return this.driver.extend(this.lock as HeldLock, this.entry, ttl).catch((error: unknown) => this.refused(error));
  }

  /** A permission denial as the error that says what to grant (the key prefix: the entry's lock prefix without the key). */
  private refused(error: unknown): never {
    const { lockPrefix } = this.entry;
    const key = this.lock ? encodeURIComponent(this.lock.key) : '';
    throw this.driver.refusals.explain(error, lockPrefix.slice(0, lockPrefix.length - key.length - 1));
  }
}
