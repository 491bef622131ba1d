// `nest-locker/terminus`: a health indicator for @nestjs/terminus (an optional peer). The main entry never
// loads this file, so an app without terminus never needs it.
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { LockerService } from './locker.service';

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
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string = 'locker'>(key: Key = 'locker' as Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const { status, drivers } = await this.locker.health();
    return status === 'up' ? indicator.up({ drivers }) : indicator.down({ drivers });
  }
}
