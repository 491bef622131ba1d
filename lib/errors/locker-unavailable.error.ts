import { LockerError, LockerErrorFields } from './locker.error';
import { isPassingFault } from './passing-fault';

export interface LockerUnavailableFields extends LockerErrorFields {
  section: string;
  /** The driver type: `redis`, `etcd`, ... */
  driver: string;
}

/** What a client's error says, in words a user of this library can act on (not the client's own options). */
function describeCause(cause: unknown): string {
  const message = (cause as Error | undefined)?.message ?? String(cause);
  // ioredis: a command failed while the connection was down (it names its own retry option, which users never set)
  if (/maxRetriesPerRequest/.test(message)) return 'the connection is down and the command could not be sent';
  if (/command timed out/i.test(message)) return 'no answer within command_timeout';
  return message;
}

/**
 * The server could not be reached, or did not answer within `command_timeout` (a failover, a restart, a
 * network cut): a passing fault, worth a retry. `cause` is the client's own error.
 */
export class LockerUnavailableError extends LockerError {
  /** The driver type of the locker section. */
  readonly driver: string;

  constructor(fields: LockerUnavailableFields) {
    const what = fields.key === undefined ? '' : ` for lock "${fields.key}"`;
    super(
      `The ${fields.driver} server of locker section [${fields.section}] could not be reached or did not answer in time${what}: ` +
        `${describeCause(fields.cause)}. It may be restarting or failing over; retry shortly.`,
      fields,
      'LOCKER_UNAVAILABLE',
    );
    this.driver = fields.driver;
  }

  /**
   * `error` as a LockerError, with it as the cause: one of ours as it is; a passing fault (see isPassingFault) as
   * this error, which a waiting acquire rides out; any other (the server refused the command, a program error)
   * as a plain LockerError, final: asking again would fail the same way.
   */
  static wrap(error: unknown, fields: Omit<LockerUnavailableFields, 'cause'>): LockerError {
    if (error instanceof LockerError) return error;
    if (isPassingFault(error)) return new LockerUnavailableError({ ...fields, cause: error });
    const what = fields.key === undefined ? '' : ` for lock "${fields.key}"`;
    const message = ((error as Error | undefined)?.message ?? String(error)).replace(/\.+$/, '');
    return new LockerError(
      `The ${fields.driver} driver of locker section [${fields.section}] failed${what}: ${message}. ` +
        'This is not an outage: asking again would fail the same way.',
      { ...fields, cause: error },
    );
  }
}
