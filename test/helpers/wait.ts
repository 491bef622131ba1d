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

/** Wall-clock ms with sub-ms precision, comparable across processes on one machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();
