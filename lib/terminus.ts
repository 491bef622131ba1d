// `nest-locker/terminus`: a health indicator for @nestjs/terminus (an optional peer). The main entry never
// loads this file, so an app without terminus never needs it.
import { Inject, Injectable } from '@nestjs/common';
import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { LockerService } from './locker.service';
import { requireEntryPeer } from './utils/optional-peer';

// Required, not imported: without @nestjs/terminus, loading this file says what to install instead of a bare
// "Cannot find module".
const terminus = requireEntryPeer<typeof import('@nestjs/terminus')>('@nestjs/terminus', 'nest-locker/terminus');

/**
 * `LockerService.health()` as a terminus indicator: up when every driver instance answers, down (HTTP 503
 * from a terminus endpoint) when one does not within 3 s; the per-instance details go with it. Provide it
 * in a module that imports `TerminusModule`:
 *
 *   @Get('health') @HealthCheck() check() { return this.health.check([() => this.locker.isHealthy()]); }
 */
@Injectable()
export class LockerHealthIndicator {
  constructor(
    private readonly locker: LockerService,
    @Inject(terminus.HealthIndicatorService) private readonly indicators: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string = 'locker'>(key: Key = 'locker' as Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const { status, drivers } = await this.locker.health();
    return status === 'up' ? indicator.up({ drivers }) : indicator.down({ drivers });
  }
}
