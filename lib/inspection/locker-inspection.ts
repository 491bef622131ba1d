import type { LockerSection } from '../config/resolve-locker-config';
import { LockerConfigError, LockerUnavailableError } from '../errors';
import type { DriverHealth, LockerHealth, LockInfo } from '../interfaces/lock-info.interface';
import type { LockerDriver } from '../interfaces/locker-driver.interface';
import { HEALTH_TIMEOUT_MS } from '../locker.constants';
import type { LockerDrivers } from '../locker-drivers';
import { monotonicNow } from '../utils/clock';
import { assertKnownOptions, assertLockerName, assertLockKey, assertOptionsObject, LOCK_DEFAULTS } from '../utils/lock-options';
import { describe } from '../utils/describe';
import { LockKind, LockNamespace, namespaceOf } from '../acquisition/lock-kind';
import { answerWithin } from '../utils/settle-within';

/** The options of `inspect` and `forceRelease`. */
export interface OperatorOptions {
  locker?: string;
  /** Whose lock: `lock` (default), `permit`, `read` or `write` (one read/write lock), `leader`. */
  kind?: LockKind;
}

const KINDS: readonly LockKind[] = ['lock', 'permit', 'read', 'write', 'leader'];
/** What an operator's call takes: which section and which kind, nothing of how a lock is taken. */
const OPERATOR_FIELDS: readonly (keyof OperatorOptions)[] = ['locker', 'kind'];

/** The operators' calls of `LockerService`: health, and who holds a key on the server. */
export class LockerInspection {
  constructor(private readonly drivers: LockerDrivers) {}

  /** One round trip to each driver instance's server, at the same time, each within HEALTH_TIMEOUT_MS. */
  health(): Promise<LockerHealth> {
    return checkHealth(this.drivers.all(), HEALTH_TIMEOUT_MS);
  }

  inspect(key: string, options: OperatorOptions | undefined): Promise<LockInfo | null> {
    return this.ask(key, options, 'inspect');
  }

  forceRelease(key: string, options: OperatorOptions | undefined): Promise<boolean> {
    return this.ask(key, options, 'forceRelease');
  }

  /** The driver's operator method on `key`; a server that does not answer rejects with LockerUnavailableError. */
  private async ask<M extends 'inspect' | 'forceRelease'>(
    key: string,
    options: OperatorOptions | undefined,
    method: M,
  ): Promise<Awaited<ReturnType<NonNullable<LockerDriver[M]>>>> {
    const where = `${method}()`;
    assertLockKey(key, where);
    const { locker, namespace } = operatorTarget(options, where);
    const { section, driver } = this.drivers.locker(locker);
    const call = operatorMethod(driver, section, method) as (keyPrefix: string, key: string, namespace: LockNamespace) => Promise<never>;
    try {
      return await call(section.keyPrefix, key, namespace);
    } catch (error) {
      throw LockerUnavailableError.wrap(error, { key, section: section.name, driver: driver.type });
    }
  }
}

/** The locker section and the namespace an operator's call names, checked. */
function operatorTarget(options: OperatorOptions | undefined, where: string): { locker: string; namespace: LockNamespace } {
  assertOptionsObject(options, where);
  if (options)
    assertKnownOptions(options, OPERATOR_FIELDS, where, ' (an operator names the section and the kind, not how a lock is taken)');
  const { kind = 'lock', locker = LOCK_DEFAULTS.locker } = options ?? {};
  if (!KINDS.includes(kind)) {
    throw new LockerConfigError({ section: where, field: 'kind', message: `expected one of ${KINDS.join(', ')}, got ${describe(kind)}` });
  }
  assertLockerName(locker, where);
  return { locker, namespace: namespaceOf(kind) };
}

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
