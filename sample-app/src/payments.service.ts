import { Inject, Injectable } from '@nestjs/common';
import { LockContext, WithLock } from 'nest-locker';
import { APP_ENV, AppEnv } from './app-env.config';
import { LedgerRepository } from './ledger.repository';
import { sleep } from './sleep.util';

export interface PaymentResult {
  order: string;
  status: 'charged' | 'already-paid';
  by: string;
}

@Injectable()
export class PaymentsService {
  constructor(
    private readonly ledger: LedgerRepository,
    @Inject(APP_ENV) private readonly env: AppEnv,
  ) {}

  /**
   * Charges an order once, however many instances get the same request at the same moment: the check
   * and the charge run under the order's lock (the lock key is `order:<id>`), so the second caller
   * waits, then sees the first one's ledger entry. Waits at most 5 s for the lock (then HTTP 503).
   */
  @WithLock('order:{0}', { waitTime: 5000 })
  async pay(order: string): Promise<PaymentResult> {
    const { instance } = this.env;
    const paid = (await this.ledger.entries(order)).some((entry) => entry.event === 'charged');
    if (paid) return { order, status: 'already-paid', by: instance };
    await sleep(200); // the card network; without the lock, this is where double charges happen
    const fencingToken = String(LockContext.current()?.fencingToken);
    await this.ledger.append({ order, event: 'charged', by: instance, fencingToken, at: new Date().toISOString() });
    return { order, status: 'charged', by: instance };
  }
}
