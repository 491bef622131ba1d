import assert from 'node:assert/strict';
import { LockerConfig, LockerConfigError, LockerService } from 'nest-locker';
import { configErrorOf } from '../bad-input/outcome-table';
import { startLockerApp } from './locker-app';

/** Any started app with LockerModule: its service, and a close that runs the shutdown hooks. */
export interface StartedApp {
  service: LockerService;
  close(): Promise<unknown>;
}

/** Two apps from `start`: one holds, the other waits and gets the lock once it is released, with a higher token. */
export async function assertHandsOverBetween(
  start: () => Promise<StartedApp>,
  key = `handover-${process.pid}-${Math.random()}`,
): Promise<void> {
  const [first, second] = await Promise.all([start(), start()]);
  try {
    const held = await first.service.acquire(key);
    assert.equal(await second.service.tryAcquire(key), null, 'excluded while held');
    const waiting = second.service.acquire(key, { waitTime: 10_000 });
    await held.release();
    const next = await waiting;
    assert.ok(next.fencingToken > held.fencingToken, `token ${next.fencingToken} after ${held.fencingToken}`);
    await next.release();
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
}

/** `assertHandsOverBetween` two apps started with `config`. */
export const assertHandsOver = (config: LockerConfig, key?: string): Promise<void> =>
  assertHandsOverBetween(() => startLockerApp(config), key);

/** The LockerConfigError an app with `config` fails to start with. */
export function refusedAtBootstrap(config: LockerConfig): Promise<LockerConfigError> {
  return configErrorOf(() => startLockerApp(config));
}
