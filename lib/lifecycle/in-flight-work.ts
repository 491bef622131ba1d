import { Logger } from '@nestjs/common';
import { LockerClosedError } from '../errors';
import type { Lock } from '../interfaces/lock.interface';
import type { LockerDrivers } from '../locker-drivers';
import { SHUTDOWN_CLOSE_MS, SHUTDOWN_RELEASE_MS } from '../locker.constants';
import { MinHolds } from '../lock/min-holds';
import type { PendingAcquisition } from '../lock/pending-acquisition';
import { settleWithin } from '../utils/settle-within';

/**
 * What shutdown waits for: acquisitions on their way (each aborted by shutdown, not a listener each on one
 * shared signal), locked bodies running, and locks kept for their `minHold`. Shutdown stops new
 * acquisitions, lets bodies finish, then releases what is held and closes the drivers, each step bounded.
 */
export class InFlightWork {
  private readonly logger = new Logger('LockerService');
  private closing?: LockerClosedError;
  /** Shutdown has begun releasing held locks: from now on a lock is released at once. */
  private releasing = false;
  private readonly requests = new Set<PendingAcquisition>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly minHolds = new MinHolds();
  /** One controller per observer that runs until shutdown: shutdown aborts each. */
  private readonly untilShutdownControllers = new Set<AbortController>();

  constructor(
    private readonly drivers: LockerDrivers,
    private readonly shutdownTimeout: number,
  ) {}

  /**
   * A signal that aborts (with a `LockerClosedError`) when shutdown begins, for work that runs on until then
   * (an election's observer): a controller of its own that shutdown aborts, so that no shared signal gains a
   * listener per observer (Node warns of a leak past ten). Call `forget` when the work ends.
   */
  untilShutdown(): { signal: AbortSignal; forget: () => void } {
    const controller = new AbortController();
    if (this.closing) controller.abort(this.closing);
    else this.untilShutdownControllers.add(controller);
    return { signal: controller.signal, forget: () => void this.untilShutdownControllers.delete(controller) };
  }

  /** Throws `LockerClosedError` once shutdown has begun. */
  assertOpen(key: string, section: string): void {
    if (this.closing) throw new LockerClosedError(key, section);
  }

  /** An acquisition on its way: shutdown aborts it and waits for its `done`. */
  started(request: PendingAcquisition): void {
    this.requests.add(request);
  }

  ended(request: PendingAcquisition): void {
    this.requests.delete(request);
  }

  /** Runs work that shutdown must wait for (a locked body, from before its lock is taken). */
  track<T>(work: () => Promise<T>): Promise<T> {
    const running = work();
    this.running.add(running);
    const forget = (): void => void this.running.delete(running);
    running.then(forget, forget);
    return running;
  }

  /** Keeps `lock` until `ms` from now (a `minHold`), then releases it; shutdown leaves it to expire. */
  holdFor(lock: Lock, ms: number): Promise<void> {
    if (this.releasing) return lock.release();
    this.minHolds.add(lock, ms);
    return Promise.resolve();
  }

  /**
   * Stop taking locks, let running bodies finish (within `shutdownTimeout`), then, within
   * SHUTDOWN_RELEASE_MS even if a server does not answer: release every lock still held, except one inside
   * its `minHold`, whose lease is cut to what remains of it so that it expires then on the server.
   */
  async drain(): Promise<void> {
    this.closing = new LockerClosedError();
    for (const controller of this.untilShutdownControllers) controller.abort(this.closing);
    this.untilShutdownControllers.clear();
    for (const request of this.requests) request.abort(this.closing);
    if (!(await settleWithin(Promise.allSettled([...this.running]), this.shutdownTimeout))) {
      this.logger.warn(`${this.running.size} locked bodies still running after ${this.shutdownTimeout} ms; releasing their locks`);
    }
    this.releasing = true;
    // All at once: a server that does not answer must not hold up the others' releases. The acquisitions were
    // aborted above, and each gives back what it took; a lock inside its minHold is left to expire instead.
    const held = this.drivers.all().flatMap((driver) => driver.heldLocks().filter((lock) => !this.minHolds.has(lock)));
    const acquiring = [...this.requests].map((request) => request.done);
    const releasing = Promise.allSettled([...acquiring, this.minHolds.leaveToExpire(), ...held.map((lock) => lock.release())]);
    if (!(await settleWithin(releasing, SHUTDOWN_RELEASE_MS))) {
      this.logger.warn(
        `Releasing the held locks took over ${SHUTDOWN_RELEASE_MS} ms (a server not answering?); they expire with their leases`,
      );
    }
  }

  /** Closes the connections the module opened, within SHUTDOWN_CLOSE_MS even if a server does not answer. */
  async close(): Promise<void> {
    this.minHolds.clear();
    if (!(await settleWithin(this.drivers.close(), SHUTDOWN_CLOSE_MS))) {
      this.logger.warn(`Closing the locker connections took over ${SHUTDOWN_CLOSE_MS} ms (a server not answering?); shutdown goes on`);
    }
  }
}
