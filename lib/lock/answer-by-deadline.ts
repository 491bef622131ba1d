import type { Lock } from '../interfaces/lock.interface';

/** Lets a driver that is about to time out by itself do so: its error is the more precise one. */
const DRIVER_FIRST_MS = 2;

/**
 * The driver's answer, unless the caller's deadline or abort comes first: a call can hang on a server that
 * does not answer (a cut connection, an etcd election), and `waitTime` is still a deadline then. A lock the
 * driver grants after that is released at once, so nothing of the attempt stays behind.
 */
export function answerByDeadline(
  acquiring: Promise<Lock | null>,
  waitTime: number | undefined,
  signal: AbortSignal,
  timeoutError: () => Error,
): Promise<Lock | null> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const timer = waitTime === undefined ? undefined : setTimeout(() => giveUp(timeoutError()), waitTime + DRIVER_FIRST_MS);
    const onAbort = (): void => giveUp(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (): boolean => {
      if (answered) return false;
      answered = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      return true;
    };
    function giveUp(error: unknown): void {
      if (settle()) reject(error);
    }
    acquiring.then(
      (lock) => {
        if (settle()) resolve(lock);
        else lock?.release().catch(() => undefined);
      },
      (error: unknown) => settle() && reject(error),
    );
  });
}
