import { monotonicNow } from '../../utils/clock';

/** How long an endpoint that failed to connect is passed over while another one has not failed. */
export const ENDPOINT_COOL_DOWN_MS = 2_000;

const NEVER_ABORTED = new AbortController().signal;

/**
 * A failure to reach an endpoint, given etcd3's Unavailable error class: connection refused or dropped.
 * "etcdserver: ..." is an answer from a live member (no leader yet, request timed out), not a dead one.
 */
export const unreachableWith =
  (unavailable: abstract new (...args: never[]) => Error) =>
  (error: unknown): boolean =>
    error instanceof unavailable && !error.message.includes('etcdserver:');

/** The part of a cockatiel policy etcd3 calls for each endpoint (a call, or the opening / failing of a stream). */
export interface EndpointPolicy {
  execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T>;
}

/**
 * The fault policy of every etcd endpoint of one client. Calls go straight through (etcd3's default
 * circuit breaker would refuse calls to a restarted single server for 5 s), except that an endpoint
 * that just failed to connect is passed over while another endpoint has not: etcd3 picks an endpoint
 * at random for each call and each keep-alive or watch stream, and would keep trying a dead member.
 * When every endpoint failed recently, all are tried again: an outage never makes the client refuse
 * calls by itself, so a restarted server is used at once.
 */
export class EndpointCoolDown {
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly endpoints: readonly string[],
    /** Is this error a failure to reach the endpoint (not an answer from a live member)? */
    private readonly unreachable: (error: unknown) => boolean,
    /** The error etcd3 gets for a call passed over here: one it retries on another endpoint. */
    private readonly passedOver: (endpoint: string) => Error,
  ) {}

  /** etcd3 asks for one policy per endpoint when the client is made. */
  policy(endpoint: string): EndpointPolicy {
    return {
      execute: async (fn) => {
        if (this.coolingDown(endpoint) && this.anotherUsable(endpoint)) throw this.passedOver(endpoint);
        try {
          return await fn({ signal: NEVER_ABORTED });
        } catch (error) {
          if (this.unreachable(error)) this.failedAt.set(endpoint, monotonicNow());
          throw error;
        }
      },
    };
  }

  private coolingDown(endpoint: string): boolean {
    const failedAt = this.failedAt.get(endpoint);
    if (failedAt === undefined) return false;
    if (monotonicNow() - failedAt < ENDPOINT_COOL_DOWN_MS) return true;
    this.failedAt.delete(endpoint);
    return false;
  }

  private anotherUsable(endpoint: string): boolean {
    return this.endpoints.some((other) => other !== endpoint && !this.coolingDown(other));
  }
}
