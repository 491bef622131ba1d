// The application API. Driver authors: `nest-locker/driver-kit`.
export { LockerModule } from './locker.module';
export type { LockerConfigFactory, LockerModuleAsyncOptions } from './interfaces/locker-module-async-options.interface';
export { LockerService } from './locker.service';
export { Locker } from './locker';
export { LockContext } from './context/lock-context';
export { WithLock } from './decorators/with-lock.decorator';
export { WithPermit } from './decorators/with-permit.decorator';
export { WithReadLock, WithWriteLock } from './decorators/with-read-write-lock.decorator';
export { LockedInterval } from './decorators/locked-interval.decorator';
export { OnLeadership } from './decorators/on-leadership.decorator';
export { LockedIntervalRegistry } from './scheduling/locked-interval.registry';
export { LockedLoopStatus, LockedLoopState } from './scheduling/locked-loop';
export { InjectLockerDriver } from './decorators/inject-locker-driver.decorator';
export { getLockerDriverToken } from './utils/get-locker-driver-token.util';
export { loadLockerConfig } from './config/load-locker-config';
export { LockerExceptionFilter } from './filters/locker-exception.filter';
export * from './errors';
export type { Lock } from './interfaces/lock.interface';
export type { LockOptions, LockerCallOptions } from './interfaces/lock-options.interface';
export type { PermitOptions, WithPermitOptions } from './interfaces/permit-options.interface';
export type { LockKind } from './acquisition/lock-kind';
export type { CampaignOptions, Election, ElectionOptions, LeaderInfo, OnLeadershipOptions } from './interfaces/election.interface';
export type { OperatorOptions } from './inspection/locker-inspection';
export type { LockEvent } from './interfaces/lock-event.interface';
export type { DriverHealth, LockerHealth, LockHolder, LockHolding, LockInfo } from './interfaces/lock-info.interface';
export { LOCK_EVENTS_CHANNEL } from './observability/lock-diagnostics-channel';
export type { LockChannelMessage } from './observability/lock-diagnostics-channel';
export type {
  EtcdConnectionConfig,
  LockerConfig,
  LockerModuleOptions,
  LockerSectionConfig,
  RedisConnectionConfig,
} from './interfaces/locker-config.interface';
export type { LockKey, OnBusy, WithLockOptions } from './interfaces/with-lock-options.interface';
export type { LockedIntervalOptions } from './interfaces/locked-interval-options.interface';
