import { Test, TestingModule } from '@nestjs/testing';
import { getLockerDriverToken, LockerConfig, LockerModule, LockerModuleOptions, LockerService } from 'nest-locker';
import type { LockerDriver } from 'nest-locker/driver-kit';

export interface LockerApp {
  moduleRef: TestingModule;
  service: LockerService;
  driver(instanceId: string): LockerDriver;
  close(): Promise<void>;
}

/** A Nest app context with LockerModule, as a user's app would have it; `close()` runs the shutdown hooks. */
export async function startLockerApp(config: LockerConfig, options?: LockerModuleOptions): Promise<LockerApp> {
  const moduleRef = await Test.createTestingModule({ imports: [LockerModule.forRoot(config, options)] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  let closed = false;
  return {
    moduleRef,
    service: moduleRef.get(LockerService),
    driver: (instanceId) => moduleRef.get<LockerDriver>(getLockerDriverToken(instanceId)),
    async close() {
      if (closed) return;
      closed = true;
      await moduleRef.close();
    },
  };
}
