import type { LockedRuns } from './acquisition/locked-runs';
import { LockerConfigError, LockerNotReadyError } from './errors';

/** The locked runs of every initialised app in this process, in order of initialisation. */
const services: LockedRuns[] = [];
/** Providers and controllers with `@WithLock` methods → the locked runs of the app that made them. */
const owners = new WeakMap<object, LockedRuns>();

/**
 * How decorated methods reach their app's locks at call time: filled when LockerModule initialises,
 * emptied when it shuts down. With several apps in one process (an e2e suite, a worker beside an API),
 * a provider's or controller's method locks through its own app; see `runs()` for other objects.
 */
export const LockerHost = {
  attach(service: LockedRuns): void {
    if (!services.includes(service)) services.push(service);
  },
  detach(service: LockedRuns): void {
    const index = services.indexOf(service);
    if (index >= 0) services.splice(index, 1);
  },
  /** `instance` is a provider or controller of the app whose LockerService this is. */
  bind(instance: object, service: LockedRuns): void {
    owners.set(instance, service);
  },
  /**
   * The service `instance`'s decorated methods lock through: its own app's; for an object no app made
   * (a plain class, a request-scoped instance), the one initialised app. Throws `LockerNotReadyError`
   * naming `where` before init and after shutdown, and `LockerConfigError` when several apps could
   * serve an object none of them made: a decorated body never runs unlocked, nor under a stranger's lock.
   */
  runs(instance: unknown, where: string): LockedRuns {
    const owner = typeof instance === 'object' && instance !== null ? owners.get(instance) : undefined;
    if (owner) {
      if (!services.includes(owner)) throw new LockerNotReadyError(where);
      return owner;
    }
    if (services.length === 1) return services[0];
    if (services.length === 0) throw new LockerNotReadyError(where);
    throw new LockerConfigError({
      section: where,
      message:
        `${services.length} apps with LockerModule are running in this process and this object is not a provider or ` +
        "controller of any of them, so which app's locks to use is ambiguous; make its class a (singleton) provider, " +
        'or call withLock() on the LockerService of the app it belongs to',
    });
  },
};
