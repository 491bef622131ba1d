import type { LockerSection } from '../config/resolve-locker-config';
import { LockerConfigError } from '../errors';
import type { DriverHealth, LockerHealth } from '../interfaces/lock-info.interface';
import type { LockerDriver } from '../interfaces/locker-driver.interface';
import { monotonicNow } from '../utils/clock';
import { answerWithin } from '../utils/settle-within';

/** One round trip to each driver instance's server, at the same time, each within `timeoutMs`. */
export async function checkHealth(drivers: LockerDriver[], timeoutMs: number): Promise<LockerHealth> {
  const checked = await Promise.all(drivers.map(async (driver) => [driver.instanceId, await checkDriver(driver, timeoutMs)] as const));
  return {
    status: checked.every(([, health]) => health.status === 'up') ? 'up' : 'down',
    drivers: Object.fromEntries(checked),
  };
}

async function checkDriver(driver: LockerDriver, timeoutMs: number): Promise<DriverHealth> {
  const startedAt = monotonicNow();
  // the driver bounds its ping; this bounds a driver that forgot to
  const pinging = driver.ping ? answerWithin(driver.ping(timeoutMs), timeoutMs + 100, `${driver.type}: `) : Promise.resolve();
  try {
    await pinging;
    return {
      status: 'up',
      driver: driver.type,
      latencyMs: Math.round((monotonicNow() - startedAt) * 10) / 10,
      heldLocks: driver.heldLocks().length,
    };
  } catch (error) {
    return { status: 'down', driver: driver.type, heldLocks: driver.heldLocks().length, error: (error as Error)?.message ?? String(error) };
  }
}

/** The driver's operator method `name`, or a LockerConfigError saying that this driver has none. */
export function operatorMethod<M extends 'inspect' | 'forceRelease' | 'list'>(
  driver: LockerDriver,
  section: LockerSection,
  name: M,
): NonNullable<LockerDriver[M]> {
  const method = driver[name];
  if (!method) {
    throw new LockerConfigError({
      section: section.name,
      field: 'driver',
      message: `the "${driver.type}" driver cannot ${name === 'list' ? 'list locks' : `${name}()`}; it implements no ${name}() method`,
    });
  }
  return method.bind(driver) as NonNullable<LockerDriver[M]>;
}
