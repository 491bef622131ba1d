import { performance } from 'node:perf_hooks';

/** Monotonic milliseconds: lease deadlines must not move when the wall clock is adjusted. */
export const monotonicNow = (): number => performance.now();

/**
 * How long before the server-side expiry a holder considers its lease gone: covers clock-rate drift
 * between client and server (1%) and timer lateness. Never more than half the TTL.
 */
export function leaseSafetyMargin(ttl: number): number {
  return Math.min(Math.ceil(ttl * 0.02) + 5, Math.floor(ttl / 2));
}
