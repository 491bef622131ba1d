import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { loadLockerConfig, LockerExceptionFilter, LockerModule } from 'nest-locker';
import { LockerHealthIndicator } from 'nest-locker/terminus';
import { APP_ENV, readAppEnv } from './app-env.config';
import { CleanupJob } from './cleanup.job';
import { FeedController } from './feed.controller';
import { FeedOwnerService } from './feed-owner.service';
import { FeedWatcher } from './feed-watcher.service';
import { HealthController } from './health.controller';
import { LedgerRepository } from './ledger.repository';
import { PaymentsController } from './payments.controller';
import { PaymentsService } from './payments.service';
import { ReportBuilderService } from './report-builder.service';
import { ReportExportsController } from './report-exports.controller';
import { ReportExportsService } from './report-exports.service';

const env = readAppEnv();

@Module({
  imports: [
    // [locker] (redis) serves @WithLock, @WithPermit and the feed owner's election; [jobs_locker] (etcd) serves
    // the report loop. A bad file fails here.
    LockerModule.forRoot(loadLockerConfig(env.lockerConfig)),
    ScheduleModule.forRoot(),
    TerminusModule,
  ],
  controllers: [PaymentsController, ReportExportsController, HealthController, FeedController],
  providers: [
    { provide: APP_ENV, useValue: env },
    { provide: APP_FILTER, useClass: LockerExceptionFilter },
    LockerHealthIndicator,
    LedgerRepository,
    PaymentsService,
    ReportBuilderService,
    ReportExportsService,
    CleanupJob,
    FeedOwnerService,
    FeedWatcher,
  ],
})
export class AppModule {}
