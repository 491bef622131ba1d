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
  /** Times this process went ahead of the next process in line in this run (retakes and handoffs here). */
  retakes: number;
  /** Monotonic time of the run's first keep. */
  since: number;
  /** The owner id the lock is kept under now, until a retake claims it or it is passed on. */
  kept?: string;
}

/**
 * Cohort handoff for the default mode (`fair: false`) of a hot mutex. A release with a waiter of this process
 * hands the lock to it in the same round trip (HANDOFF_SCRIPT). A release without one, while a waiter of
 * another process is first in line, may leave the lock kept for this process (RELEASE_SCRIPT's `keep`): a
 * new acquire in the same turn of the event loop (a worker that takes the lock again at once) takes it back
 * in one round trip with a new token; otherwise it is passed on to the next in line once the turn's work
 * is done. At most COHORT_MAX_RETAKES times in a row within COHORT_WINDOW_MS: no one starves,
 * and far fewer handoffs cross processes, each of which costs a message and another process's wake-up.
 */
export class RedisCohorts {
  private readonly runs = new Map<string, Run>();

  /** `passOn(lock, owner)`: releases a kept lock that no retake claimed, to the next in line. */
  constructor(private readonly passOn: (lock: string, owner: string) => void) {}

  /** Whether this process may pass over the next process in line for `lock` once more: false once the run has had its share. */
  mayPassOver(lock: string): boolean {
    const run = this.runs.get(lock);
    return !run || (run.retakes < COHORT_MAX_RETAKES && monotonicNow() - run.since < COHORT_WINDOW_MS);
  }

  /** How long the server may keep `lock` for us at a release now: 0 once the run has had its share. */
  keepFor(lock: string): number {
    return this.mayPassOver(lock) ? KEEP_MS : 0;
  }

  /** A release here handed `lock` to a waiter of this process ahead of the next process in line. */
  passed(lock: string): void {
    this.run(lock).retakes++;
  }

  /** The release kept `lock` under `owner`: a retake here claims it, else it is passed on after this turn. */
  kept(lock: string, owner: string): void {
    const run = this.run(lock);
    run.kept = owner;
    setImmediate(() => {
      if (run.kept !== owner) return;
      run.kept = undefined;
      this.passOn(lock, owner);
    });
  }

  /** Whether `lock` is kept here now (a retake may claim it). */
  isKept(lock: string): boolean {
    return this.runs.get(lock)?.kept !== undefined;
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

  private run(lock: string): Run {
    let run = this.runs.get(lock);
    if (!run) {
      run = { retakes: 0, since: monotonicNow() };
      this.runs.set(lock, run);
    }
    return run;
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
