import type { LockEvent, LockEventSource } from '../interfaces/lock-event.interface';

/** Sees every lock event of the module's drivers, synchronously; must not throw. */
export type LockObserver = (event: LockEvent, lock: LockEventSource) => void;
