import type { Lock } from '../interfaces/lock.interface';
import { monotonicNow } from '../utils/clock';
import { armLeaseDeadline, DeadlineChecked, disarmLeaseDeadline } from './lease-deadline';

/** Lets a driver that is about to time out by itself do so: its error is the more precise one. */
const DRIVER_FIRST_MS = 2;

const ignore = (): void => undefined;

/**
 * The driver's answer, unless the caller's deadline or abort comes first: a call can hang on a server that
 * does not answer (a cut connection, an etcd election), and `waitTime` is still a deadline then. A lock the
 * driver grants after that is released at once, so nothing of the attempt stays behind. `signal` is listened
 * to when given; without one, the caller gives up through `giveUp`. One object per acquisition (it is on
 * every lock's path): the deadline sits on the leases' shared wheel, so an answer that comes first, as most
 * do, never armed a Node timer.
 */
export class DeadlineAnswer implements DeadlineChecked {
  /** The lock (or null), or the timeout / abort reason if that came first. */
  readonly answer: Promise<Lock | null>;
  /** Settles once the driver's call has, and a lock it granted too late has been given back; then `onDone` has run. */
  readonly done: Promise<void>;
  private answered = false;
  /** The caller was answered with a timeout or abort before the driver's call settled. */
  private gaveUp = false;
  private resolve!: (lock: Lock | null) => void;
  private reject!: (error: unknown) => void;
  private readonly at: number;
  private finalTimer?: NodeJS.Timeout;
  private readonly onAbort?: () => void;

  constructor(
    acquiring: Promise<Lock | null>,
    waitTime: number | undefined,
    private readonly signal: AbortSignal | undefined,
    private readonly timeoutError: () => Error,
    onDone: () => void,
  ) {
    this.answer = new Promise<Lock | null>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.at = waitTime === undefined ? Infinity : monotonicNow() + waitTime + DRIVER_FIRST_MS;
    if (waitTime !== undefined) this.finalTimer = armLeaseDeadline(this, this.at);
    if (signal) {
      this.onAbort = () => this.giveUp(signal.reason);
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.done = acquiring.then(
      (lock) => {
        if (this.settle()) this.resolve(lock);
        else if (lock && this.gaveUp) return lock.release().catch(ignore).then(onDone);
        onDone();
      },
      (error: unknown) => {
        if (this.settle()) this.reject(error);
        onDone();
      },
    );
  }

  /** Answers the caller with `error` now (shutdown, abort, deadline), unless it has its answer already. */
  giveUp(error: unknown): void {
    if (!this.settle()) return;
    this.gaveUp = true;
    this.reject(error);
  }

  /** @internal called by the shared deadline wheel. */
  checkDeadline(): void {
    if (monotonicNow() < this.at) this.finalTimer = armLeaseDeadline(this, this.at);
    else this.giveUp(this.timeoutError());
  }

  private settle(): boolean {
    if (this.answered) return false;
    this.answered = true;
    if (this.at !== Infinity) disarmLeaseDeadline(this, this.finalTimer);
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    return true;
  }
}
