import { LockerError, LockerErrorFields } from './locker.error';

/**
 * Why a held lock was lost:
 * - `refused`: the server says the lock is no longer ours (expired, or the server lost its data);
 * - `deadline`: no renewal was confirmed in time, so the lease may already have run out on the server;
 * - `expired`: a lock taken with `keepAlive: false` reached the end of its TTL;
 * - `disconnected`: the connection to a redis server dropped. The server may have restarted without its data,
 *   and then another node can take the lock as soon as it reconnects, so the holder is told at once.
 */
export type LockLostReason = 'refused' | 'deadline' | 'expired' | 'disconnected';

/** The lock is no longer held. Stop touching what it protected; another holder may have it now. */
export class LockLostError extends LockerError {
  readonly reason: LockLostReason;

  constructor(fields: LockerErrorFields & { key: string; reason: LockLostReason; detail?: string }) {
    super(`Lock "${fields.key}" was lost (${fields.reason}${fields.detail ? `: ${fields.detail}` : ''}).`, fields, 'LOCK_LOST');
    this.reason = fields.reason;
  }
}
