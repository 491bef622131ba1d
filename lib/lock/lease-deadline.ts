import { monotonicNow } from '../utils/clock';
import { SlotTimer } from '../utils/slot-timer';

/** A lock whose lease has a local deadline: checked by the timer when due (or a little early). */
export interface DeadlineChecked {
  checkDeadline(): void;
}

const DEADLINE_SLOT_MS = 10;
/** Every held lock's deadline check, on shared timers. */
const deadlines = new SlotTimer<DeadlineChecked>((lock) => lock.checkDeadline(), true, DEADLINE_SLOT_MS);

/**
 * Checks at the deadline; if a renewal moved it meanwhile, waits again until the new one. The shared
 * slot timer may fire a little early: the last stretch is timed exactly. Ref'd: a held lock keeps the
 * process alive, so its loss is always reported. Returns the precise timer of the last stretch, if set
 * (the caller clears the previous one first).
 */
export function armLeaseDeadline(lock: DeadlineChecked, deadline: number): NodeJS.Timeout | undefined {
  const remaining = deadline - monotonicNow();
  if (remaining > DEADLINE_SLOT_MS) {
    deadlines.schedule(lock, deadline);
    return undefined;
  }
  return setTimeout(() => lock.checkDeadline(), Math.max(0, remaining));
}

/** No more deadline checks for `lock`: off the shared timer, and its precise timer cleared. */
export function disarmLeaseDeadline(lock: DeadlineChecked, finalTimer: NodeJS.Timeout | undefined): void {
  deadlines.cancel(lock);
  clearTimeout(finalTimer);
}
