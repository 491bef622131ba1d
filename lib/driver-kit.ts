// `nest-locker/driver-kit`: what a driver author needs to add a backend (the driver SPI and its helpers).
// Applications import from `nest-locker`; nothing here is needed to take locks.
export { registerLockerDriver, registeredLockerDrivers } from './drivers/driver-registry';
export { AbstractLockerDriver } from './drivers/abstract-locker.driver';
export { HeldLock, HeldLockInit, HeldLockOwner, LockRemote } from './lock/held-lock';
export { RenewalBatcher, RenewalResult } from './lock/renewal-batcher';
export { WaitScope, WakeSource } from './lock/wait-scope';
export { SectionReader } from './config/section-reader';
export { LOCK_DEFAULTS } from './utils/lock-options';
export type {
  AcquireRequest,
  DriverContext,
  LockerDriver,
  LockerDriverFactory,
  LockInspection,
  LeaderWatch,
} from './interfaces/locker-driver.interface';
export type { LeaderInfo } from './interfaces/election.interface';
export type { LockEventSink } from './interfaces/lock-event.interface';
export { mayHold, namespaceOf } from './acquisition/lock-kind';
export type { LockKind, LockNamespace, QueuedSpec } from './acquisition/lock-kind';
