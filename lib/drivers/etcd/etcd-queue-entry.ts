import type { EtcdLeaseSession } from './etcd-lease-session';

/** One queued or held entry: `<prefix><escaped key>/<random id>`, ordered by create revision. */
export interface QueueEntry {
  lockPrefix: string;
  name: string;
  revision: string;
  /** The keep-alive session whose lease carries the entry, or the lock's own fixed lease. */
  session?: EtcdLeaseSession;
  fixedLeaseId?: string;
  /** Keeps the session from retiring as idle while the entry waits on it (a held lock is attached instead). */
  unpin?: () => void;
}

/** Our queue entry vanished (its lease expired while etcd was away): enqueue again. */
export class QueuePositionLost extends Error {}
