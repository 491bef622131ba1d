/** Stable machine-readable codes; one per error class. */
export type LockerErrorCode =
  | 'LOCKER_ERROR'
  | 'LOCK_WAIT_TIMEOUT'
  | 'LOCK_LOST'
  | 'LOCK_RELEASED'
  | 'LOCKER_CONFIG'
  | 'LOCKER_CLOSED'
  | 'LOCK_BUSY'
  | 'LOCKER_NOT_READY'
  | 'LOCKER_UNAVAILABLE';

export interface LockerErrorFields {
  /** The lock key the error is about, when there is one. */
  key?: string;
  /** The locker or connection section the error is about, when there is one. */
  section?: string;
  cause?: unknown;
}

/**
 * Base class of every error nest-locker throws; `code` is stable across versions. `key` and `section` are set only
 * when they apply (`declare`: no field is defined for them otherwise, so a logged error shows no `key: undefined`).
 */
export class LockerError extends Error {
  readonly code: LockerErrorCode;
  declare readonly key?: string;
  declare readonly section?: string;

  constructor(message: string, fields: LockerErrorFields = {}, code: LockerErrorCode = 'LOCKER_ERROR') {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.code = code;
    if (fields.key !== undefined) this.key = fields.key;
    if (fields.section !== undefined) this.section = fields.section;
  }
}
