import { CONNECTION_DEFAULTS } from '../../config/connection-defaults';
import type { CallContext } from 'etcd3';

/** `command_timeout` when the connection section does not set it. */
export const DEFAULT_COMMAND_TIMEOUT_MS = CONNECTION_DEFAULTS.commandTimeout;

/** How many endpoints etcd3 tries for one call that found its endpoint unreachable (its own default). */
const CALL_ATTEMPTS = 3;

/**
 * A gRPC deadline for every unary etcd call. Streams get none: a watch lives as long as its waiters, and
 * the keep-alive exchange times its own answer (EtcdLeaseSession).
 */
export const callDeadline =
  (commandTimeout: number) =>
  (context: CallContext): { deadline?: number } =>
    context.isStream ? {} : { deadline: Date.now() + commandTimeout };

/**
 * etcd3's global fault policy, as its default (retry a call whose endpoint failed, on another one) except
 * that a call that ran out of its deadline is not sent again: a silent member would otherwise hold each
 * call for three deadlines, and the caller (a renewal, a waiter's next look) retries on its own schedule.
 */
export function retryUnlessTimedOut(
  recoverable: (error: Error) => boolean,
  deadlineExceeded: abstract new (...args: never[]) => Error,
): { execute<T>(fn: (context: { attempt: number; signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> } {
  const signal = new AbortController().signal;
  return {
    async execute(fn) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn({ attempt, signal });
        } catch (error) {
          if (attempt >= CALL_ATTEMPTS || error instanceof deadlineExceeded || !recoverable(error as Error)) throw error;
        }
      }
    },
  };
}
