import type { Lock } from '../interfaces/lock.interface';
import { monotonicNow } from '../utils/clock';
import { armLeaseDeadline, DeadlineChecked, disarmLeaseDeadline } from './lease-deadline';

/** Lets a driver that is about to time out by itself do so: its error is the more precise one. */
const DRIVER_FIRST_MS = 2;

export interface DeadlineAnswer {
  /** The lock (or null), or the timeout / abort reason if that came first. */
  answer: Promise<Lock | null>;
  /** Settles once the driver's call has, and a lock it granted too late has been given back. */
  done: Promise<void>;
  /** Answers the caller with `error` now (shutdown), unless it has its answer already. */
  giveUp: (error: unknown) => void;
}

/**
 * The driver's answer, unless the caller's deadline or abort comes first: a call can hang on a server that
 * does not answer (a cut connection, an etcd election), and `waitTime` is still a deadline then. A lock the
 * driver grants after that is released at once, so nothing of the attempt stays behind. `signal` is listened
 * to when given; without one, the caller gives up through `giveUp`.
 */
export function answerByDeadline(
  acquiring: Promise<Lock | null>,
  waitTime: number | undefined,
  signal: AbortSignal | undefined,
  timeoutError: () => Error,
): DeadlineAnswer {
  let answered = false;
  /** The caller was answered with a timeout or abort before the driver's call settled. */
  let gaveUp = false;
  let giveUp: (error: unknown) => void = () => undefined;
  const answer = new Promise<Lock | null>((resolve, reject) => {
    // on the locks' shared deadline wheel: most answers come long before, and then no Node timer was armed
    const deadline =
      waitTime === undefined ? undefined : new WaitDeadline(monotonicNow() + waitTime + DRIVER_FIRST_MS, () => giveUp(timeoutError()));
    const onAbort = (): void => giveUp(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): boolean => {
      if (answered) return false;
      answered = true;
      deadline?.disarm();
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    giveUp = (error) => {
      if (!settle()) return;
      gaveUp = true;
      reject(error);
    };
    acquiring.then(
      (lock) => settle() && resolve(lock),
      (error: unknown) => settle() && reject(error),
    );
  });
  // registered after the handler above, so `gaveUp` is decided by the time this runs
  const done = acquiring.then(
    async (lock) => {
      if (lock && gaveUp) await lock.release().catch(() => undefined);
    },
    () => undefined,
  );
  return { answer, done, giveUp }; // the executor above has run: this is the real one
}

/** The caller's deadline on the shared wheel (see armLeaseDeadline), exact at the end. */
class WaitDeadline implements DeadlineChecked {
  private finalTimer?: NodeJS.Timeout;

  constructor(
    private readonly at: number,
    private readonly onDeadline: () => void,
  ) {
    this.finalTimer = armLeaseDeadline(this, at);
  }

  checkDeadline(): void {
    if (monotonicNow() < this.at) this.finalTimer = armLeaseDeadline(this, this.at);
    else this.onDeadline();
  }

  disarm(): void {
    disarmLeaseDeadline(this, this.finalTimer);
  }
}
