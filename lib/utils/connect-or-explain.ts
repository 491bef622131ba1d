import type { LockerConfigError } from '../errors';
import { answerWithin } from './settle-within';

/** Rejects with a LockerConfigError naming the address when `connecting` does not finish in time. */
export async function connectOrExplain<T>(
  connecting: Promise<T>,
  timeoutMs: number,
  explain: (reason: string, error: unknown) => LockerConfigError,
): Promise<T> {
  try {
    return await answerWithin(connecting, timeoutMs, '');
  } catch (error) {
    throw explain((error as Error).message ?? String(error), error);
  }
}
