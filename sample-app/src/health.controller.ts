import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { LockerHealthIndicator } from 'nest-locker/terminus';

/** GET /health: 200 while every locker connection (redis, etcd) answers, 503 naming the one that does not. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly locker: LockerHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.locker.isHealthy()]);
  }
}
