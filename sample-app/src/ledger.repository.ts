import { Inject, Injectable } from '@nestjs/common';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_ENV, AppEnv } from './app-env.config';

/** One line of an order's ledger file. */
export interface LedgerEntry {
  order: string;
  event: 'charged';
  by: string;
  /** The fencing token of the lock the charge was made under. */
  fencingToken: string;
  at: string;
}

/** Order ids that are safe as file names. */
export const ORDER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The payments ledger every instance shares: one JSON-lines file per order in `LEDGER_DIR`. */
@Injectable()
export class LedgerRepository {
  constructor(@Inject(APP_ENV) private readonly env: AppEnv) {}

  async entries(order: string): Promise<LedgerEntry[]> {
    let text: string;
    try {
      text = await readFile(this.fileOf(order), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LedgerEntry);
  }

  async append(entry: LedgerEntry): Promise<void> {
    await mkdir(this.env.ledgerDir, { recursive: true });
    await appendFile(this.fileOf(entry.order), `${JSON.stringify(entry)}\n`);
  }

  private fileOf(order: string): string {
    if (!ORDER_ID.test(order)) throw new Error(`order id ${JSON.stringify(order)} is not a safe file name`);
    return join(this.env.ledgerDir, `order-${order}.jsonl`);
  }
}
