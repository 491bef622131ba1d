import { HeldLock, HeldLockInit } from '../lock/held-lock';
import type { Lock } from '../interfaces/lock.interface';
import type { AcquireRequest, DriverContext, LockerDriver } from '../interfaces/locker-driver.interface';

/** Tracks held locks and wires them to the event sink; drivers implement the server side. */
export abstract class AbstractLockerDriver implements LockerDriver {
  abstract readonly type: string;
  readonly instanceId: string;
  private readonly held = new Set<HeldLock>();

  protected constructor(protected readonly context: DriverContext) {
    this.instanceId = context.instanceId;
  }

  abstract acquire(request: AcquireRequest): Promise<Lock | null>;
  abstract close(): Promise<void>;

  heldLocks(): Lock[] {
    return [...this.held];
  }

  /** Builds the lock object for an acquisition the server granted. */
  protected hold(request: AcquireRequest, init: Pick<HeldLockInit, 'fencingToken' | 'sentAt' | 'remote'>): HeldLock {
    const lock = new HeldLock({
      ...init,
      key: request.key,
      section: request.section,
      driverInstanceId: this.instanceId,
      ttl: request.ttl,
      keepAlive: request.keepAlive,
      events: this.context.events,
      onSettled: (settled) => {
        this.held.delete(settled);
        this.onSettled(settled);
      },
      onExtended: (extended) => this.onExtended(extended),
    });
    this.held.add(lock);
    return lock;
  }

  /** Stop keep-alive and other per-lock work. */
  protected abstract onSettled(lock: HeldLock): void;

  /** The lock's TTL may have changed: keep-alive follows. */
  protected onExtended(_lock: HeldLock): void {}
}
