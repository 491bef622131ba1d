import { Inject, Injectable } from '@nestjs/common';
import { LockContext, WithPermit } from 'nest-locker';
import { APP_ENV, AppEnv } from './app-env.config';
import { sleep } from './sleep.util';

export interface ExportResult {
  report: string;
  status: 'exported';
  by: string;
  /** The permit's fencing token: grows with every export started, on any instance. */
  permit: string;
}

@Injectable()
export class ReportExportsService {
  constructor(@Inject(APP_ENV) private readonly env: AppEnv) {}

  /**
   * Exports a report; they are heavy on the database, so at most two run at once across every instance.
   * A third caller is turned away at once (onBusy: 'throw': HTTP 409 through LockerExceptionFilter).
   */
  @WithPermit('report-exports', { limit: 2, onBusy: 'throw', ttl: 10_000 })
  async export(report: string): Promise<ExportResult> {
    await sleep(1500); // the database's work
    return { report, status: 'exported', by: this.env.instance, permit: String(LockContext.current()?.fencingToken) };
  }
}
