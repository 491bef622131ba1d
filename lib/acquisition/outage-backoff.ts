/** The first pause before asking a silent or unreachable server again, ms; it doubles up to OUTAGE_PAUSE_MAX_MS. */
const OUTAGE_PAUSE_MIN_MS = 100;
const OUTAGE_PAUSE_MAX_MS = 1_000;

/**
 * Pause before the n-th retry (from 1) of a wait that met an outage: 100 ms doubling to 1 s, with full
 * jitter over its upper half so that the waiters of many processes do not come back at one instant.
 */
export function pauseBeforeRetry(retry: number): number {
  const ceiling = Math.min(OUTAGE_PAUSE_MAX_MS, OUTAGE_PAUSE_MIN_MS * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
