import { monotonicNow } from '../../utils/clock';

/**
 * The most times in a row a process takes a hot mutex back, or passes it to its own waiter, while a waiter
 * of another process is first in line; then that one gets it. Bounds how often a node is passed over.
 */
export const COHORT_MAX_RETAKES = 8;

/** Nor for longer than this from the first retake of the run: slow critical sections hand over at once. */
export const COHORT_WINDOW_MS = 5;

/**
 * How long the server keeps a released lock for a retake here: this process passes it on within one turn
 * of its event loop, so this only bounds the wait of the next in line if it stalls or dies meanwhile.
 */
export const KEEP_MS = 100;

interface Run {
  /** Locks taken back in this run. */
  retakes: number;
  /** Monotonic time of the run's first keep. */
  since: number;
  /** The owner id the lock is kept under now, until a retake claims it or it is passed on. */
  kept?: string;
}

/**
 * Cohort handoff for the default mode (`fair: false`) of a hot mutex. A release while a waiter of another
 * process is first in line may leave the lock kept for this process (RELEASE_SCRIPT's `keep`): a local
 * waiter, or a new acquire in the same turn of the event loop (a worker that takes the lock again at once),
 * takes it back in one round trip with a new token; otherwise it is passed on to the next in line once the
 * turn's work is done. At most COHORT_MAX_RETAKES times in a row within COHORT_WINDOW_MS: no one starves,
 * and far fewer handoffs cross processes, each of which costs a message and another process's wake-up.
 */
export class RedisCohorts {
  private readonly runs = new Map<string, Run>();

  /** `passOn(lock, owner)`: releases a kept lock that no retake claimed, to the next in line. */
  constructor(private readonly passOn: (lock: string, owner: string) => void) {}

  /** How long the server may keep `lock` for us at a release now: 0 once the run has had its share. */
  keepFor(lock: string): number {
    const run = this.runs.get(lock);
    if (!run) return KEEP_MS;
    return run.retakes < COHORT_MAX_RETAKES && monotonicNow() - run.since < COHORT_WINDOW_MS ? KEEP_MS : 0;
  }

  /** The release kept `lock` under `owner`: a retake here claims it, else it is passed on after this turn. */
  kept(lock: string, owner: string): void {
    let run = this.runs.get(lock);
    if (!run) {
      run = { retakes: 0, since: monotonicNow() };
      this.runs.set(lock, run);
    }
    run.kept = owner;
    setImmediate(() => {
      if (run.kept !== owner) return;
      run.kept = undefined;
      this.passOn(lock, owner);
    });
  }

  /** The owner id `lock` is kept under, for a retake (once); undefined when it is not kept. */
  claim(lock: string): string | undefined {
    const run = this.runs.get(lock);
    const owner = run?.kept;
    if (!run || owner === undefined) return undefined;
    run.kept = undefined;
    run.retakes++;
    return owner;
  }

  /** `lock` went to another process, or to no one: the next run starts afresh. */
  ended(lock: string): void {
    this.runs.delete(lock);
  }

  /** At close: every kept lock passed on now, not after a turn the driver may not see. */
  passOnAll(): void {
    for (const [lock, run] of this.runs) {
      if (run.kept !== undefined) this.passOn(lock, run.kept);
      run.kept = undefined;
    }
    this.runs.clear();
  }
}
