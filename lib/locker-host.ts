import { LockerNotReadyError } from './errors';
import type { LockerService } from './locker.service';

const services: LockerService[] = [];

/**
 * How decorated methods reach the LockerService at call time: filled when LockerModule initialises,
 * emptied when it shuts down. With several apps in one process, the latest initialised one serves.
 */
export const LockerHost = {
  attach(service: LockerService): void {
    if (!services.includes(service)) services.push(service);
  },
  detach(service: LockerService): void {
    const index = services.lastIndexOf(service);
    if (index >= 0) services.splice(index, 1);
  },
  /** Throws `LockerNotReadyError` naming `where` before init: a decorated body never runs unlocked. */
  service(where: string): LockerService {
    const service = services[services.length - 1];
    if (!service) throw new LockerNotReadyError(where);
    return service;
  },
};
