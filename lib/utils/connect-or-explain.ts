import type { LockerConfigError } from '../errors';
import { answerWithin } from './settle-within';

/** Rejects with the LockerConfigError `explain` makes (it may look further) when `connecting` fails or does not finish in time. */
export async function connectOrExplain<T>(
  connecting: Promise<T>,
  timeoutMs: number,
  explain: (reason: string, error: unknown) => LockerConfigError | Promise<LockerConfigError>,
): Promise<T> {
  try {
    return await answerWithin(connecting, timeoutMs, '');
  } catch (error) {
    throw await explain((error as Error).message ?? String(error), error);
  }
}
