/** The first wait before etcd3 opens a broken watch stream again. */
const WATCH_RETRY_FIRST_MS = 100;
/**
 * The longest. etcd3 waits on a timer that nothing can cancel and that keeps the process alive: with its
 * default (up to 30 s), a process whose etcd went away under a watch lived on up to 30 s after `app.close()`.
 */
const WATCH_RETRY_MAX_MS = 1_000;

/** One wait of etcd3's watch-stream retry (a cockatiel `IBackoff`): doubling, with jitter, up to WATCH_RETRY_MAX_MS. */
interface WatchRetry {
  readonly duration: number;
  next(): WatchRetry;
}

function retryAfter(ceiling: number): WatchRetry {
  // jitter in [ceiling/2, ceiling]: the apps of a restarted etcd do not all come back in the same instant
  const duration = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  return { duration, next: () => retryAfter(Math.min(ceiling * 2, WATCH_RETRY_MAX_MS)) };
}

/** For `faultHandling.watchBackoff`: etcd3 asks it for the first wait after each stream that worked (its own duration is unused). */
export const watchRetryBackoff: WatchRetry = { duration: 0, next: () => retryAfter(WATCH_RETRY_FIRST_MS) };
