import type { Etcd3 } from 'etcd3';

/*
 * etcd3 carries every watch of a client on one stream. Two things about it kept a process alive after
 * `app.close()`, for as long as its etcd was away or silent: its retry timer, and the stream itself.
 */

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

/** What of etcd3's client this reads (internals): the manager of its watch stream. */
interface WatchManagerInternals {
  watchManager?: { stream?: { cancel(): void } };
}

/**
 * Ends a closed client's watch stream. A watch cancelled on a silent etcd waits for an answer that never
 * comes, and its open stream kept the process alive without end; etcd3 has no call for this. Only for a
 * client the driver opened (and has closed): an app's own client may carry watches of its own.
 */
export function endWatchStream(client: Etcd3): void {
  (client as unknown as WatchManagerInternals).watchManager?.stream?.cancel();
}
