export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the reason once `signal` aborts; rejects if that has not happened within `withinMs`. */
export function abortReason(signal: AbortSignal, withinMs: number): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`signal not aborted within ${withinMs} ms`)), withinMs);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve(signal.reason);
      },
      { once: true },
    );
  });
}

/** Polls `read` until `accept` holds; returns the last value read (the caller asserts on it). */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, withinMs = 3000): Promise<T> {
  const started = Date.now();
  let value = await read();
  while (!accept(value) && Date.now() - started < withinMs) {
    await sleep(20);
    value = await read();
  }
  return value;
}

/**
 * Milliseconds of the system-wide monotonic clock (`process.hrtime`), which every process on this machine reads
 * alike: the clock for comparing what several processes recorded. Not `performance.timeOrigin + performance.now()`:
 * a process started on a busy machine may get a timeOrigin a few ms off for its whole life (a reader's sections
 * all read ~4 ms late against its fencing tokens' server time, and seemed to overlap the writers after it).
 */
export const systemNow = (): number => Number(process.hrtime.bigint()) / 1e6;
