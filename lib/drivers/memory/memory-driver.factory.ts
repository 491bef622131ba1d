import { SectionReader } from '../../config/section-reader';
import type { LockerDriverFactory } from '../../interfaces/locker-driver.interface';
import { MemoryLockDriver } from './memory-lock.driver';

/** `driver = "memory"`: its connection section is optional and has no fields. */
export const memoryDriverFactory: LockerDriverFactory<null> = {
  name: 'memory',
  defaultKeyPrefix: '',
  parseConnection(section, raw) {
    if (raw) new SectionReader(section, raw, []);
    return null;
  },
  async create(_config, context) {
    return new MemoryLockDriver(context);
  },
};
