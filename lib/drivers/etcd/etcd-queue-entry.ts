import type { QueuedSpec } from '../../acquisition/lock-kind';
import type { EtcdLeaseSession } from './etcd-lease-session';

/** One queued or held entry: `<lock prefix><marker><random id>` (see entryName), ordered by create revision. */
export interface QueueEntry {
  lockPrefix: string;
  name: string;
  /** The kind (and a permit's limit) the entry was written for. */
  spec: QueuedSpec;
  revision: string;
  /** The keep-alive session whose lease carries the entry, or the lock's own fixed lease. */
  session?: EtcdLeaseSession;
  fixedLeaseId?: string;
  /** Its value when it is not the driver's usual one (a leader's, with what it proclaimed): kept when the entry moves. */
  value?: string;
  /** Keeps the session from retiring as idle while the entry waits on it (a held lock is attached instead). */
  unpin?: () => void;
}

/** Our queue entry vanished (its lease expired while etcd was away): enqueue again. */
export class QueuePositionLost extends Error {}
