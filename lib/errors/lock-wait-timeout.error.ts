import { LockerError, LockerErrorFields } from './locker.error';

/** `waitTime` elapsed before the lock could be taken (the seed's context.DeadlineExceeded). Expected; handle it. */
export class LockWaitTimeoutError extends LockerError {
  /** How long the caller waited, in ms. */
  readonly waitedMs: number;
  /** The `waitTime` that was asked for, in ms. */
  readonly waitTime: number;

  constructor(fields: LockerErrorFields & { key: string; waitTime: number; waitedMs: number }) {
    super(
      `Timed out after ${fields.waitedMs} ms waiting for lock "${fields.key}" (waitTime ${fields.waitTime} ms); ` +
        'another holder still has it. Retry later or raise waitTime.',
      fields,
      'LOCK_WAIT_TIMEOUT',
    );
    this.waitedMs = fields.waitedMs;
    this.waitTime = fields.waitTime;
  }
}
