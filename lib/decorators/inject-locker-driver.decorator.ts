import { Inject } from '@nestjs/common';
import { getLockerDriverToken } from '../utils/get-locker-driver-token.util';

/** Injects the `LockerDriver` of a connection section, e.g. `@InjectLockerDriver('redis')`. */
export const InjectLockerDriver = (instanceId: string): ParameterDecorator & PropertyDecorator => Inject(getLockerDriverToken(instanceId));
