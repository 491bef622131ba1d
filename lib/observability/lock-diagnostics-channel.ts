import { channel } from 'node:diagnostics_channel';
import type { LockEvent } from '../interfaces/lock-event.interface';
import type { LockObserver } from './lock-observer';

/**
 * `node:diagnostics_channel` channel of every lock event (acquired, released, extended, lost,
 * renewal-failed), for APM agents and loggers that subscribe without the Nest service or rxjs. A message
 * is the `LockEvent` plus `section`, the locker section that took the lock.
 */
export const LOCK_EVENTS_CHANNEL = 'nest-locker:lock';

/** What a subscriber of `nest-locker:lock` receives. */
export type LockChannelMessage = LockEvent & { section: string };

const lockEvents = channel(LOCK_EVENTS_CHANNEL);

/** Publishes on the channel; with no subscriber it costs one check. */
export const publishLockEvent: LockObserver = (event, lock) => {
  if (lockEvents.hasSubscribers) lockEvents.publish({ ...event, section: lock.section } satisfies LockChannelMessage);
};
