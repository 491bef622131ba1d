/** Resolves after `ms`, or as soon as one of `signals` aborts; never rejects. */
export function pause(ms: number, ...signals: AbortSignal[]): Promise<void> {
  if (signals.some((signal) => signal.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    let cancel = (): void => undefined;
    const done = (): void => {
      cancel();
      for (const signal of signals) signal.removeEventListener('abort', done);
      resolve();
    };
    if (ms > 0) {
      const timer = setTimeout(done, ms);
      cancel = () => clearTimeout(timer);
    } else {
      // 0 ms still yields to the event loop, so a loop with no interval cannot starve the process
      const immediate = setImmediate(done);
      cancel = () => clearImmediate(immediate);
    }
    for (const signal of signals) signal.addEventListener('abort', done, { once: true });
  });
}
