import { mock } from 'node:test';
import { Logger } from '@nestjs/common';

/** What `work` logged through Nest's Logger as warnings (the Nest logger itself is silenced in test apps). */
export async function warnedWhile<T>(work: () => Promise<T>): Promise<[T, string[]]> {
  const warnings: string[] = [];
  const recording = mock.method(Logger.prototype, 'warn', (message: unknown) => void warnings.push(String(message)));
  try {
    return [await work(), warnings];
  } finally {
    recording.mock.restore();
  }
}
