import { describe } from './describe';
import { LockerConfigError } from '../errors';
import type { LockerCallOptions } from '../interfaces/lock-options.interface';

/** The one place lock defaults live. */
export const LOCK_DEFAULTS = { ttl: 60_000, keepAlive: true, fair: false, locker: 'locker' } as const;

/** setTimeout's ceiling (about 24.8 days): no TTL, wait or hold may be longer. */
export const MAX_DURATION_MS = 2_147_483_647;

/**
 * The shortest lease taken without keep-alive: a fixed lease that short is a cap on a short critical section.
 * Values under it are seconds written as milliseconds (the Go locker's `WithTTL(10)`), which nobody means.
 */
export const MIN_TTL_MS = 100;

/**
 * What a renewal may spend between falling due and its answer arriving: one round trip to a distant server
 * plus one event-loop stall of a busy app (a GC pause, a big JSON.parse), 100 ms each.
 */
export const RENEWAL_ROOM_MS = 200;

/**
 * The shortest kept-alive lease: renewed every ttl / 3, it leaves 2 × ttl / 3 for the renewal to arrive, and
 * that must cover RENEWAL_ROOM_MS (300 ms renews every 100 ms and leaves 200). A shorter kept-alive lease is
 * lost at the first stall; below it, Go-style seconds (`ttl: 120` for two minutes) are refused.
 */
export const MIN_KEPT_ALIVE_TTL_MS = (RENEWAL_ROOM_MS * 3) / 2;

/** Keys longer than this are refused: they cost memory on every server round trip. */
export const MAX_KEY_BYTES = 1024;

const KNOWN_OPTIONS = ['ttl', 'keepAlive', 'waitTime', 'signal', 'fair', 'locker'];

export interface NormalizedLockOptions {
  ttl: number;
  keepAlive: boolean;
  fair: boolean;
  locker: string;
  waitTime?: number;
  signal?: AbortSignal;
}

/** The ttl of a lock (kept alive unless `keepAlive` is false): whole milliseconds, long enough to be a lease. */
export function assertTtl(value: unknown, field: string, where: string, keepAlive = true): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > MAX_DURATION_MS) {
    throw new LockerConfigError({
      section: where,
      field,
      message: `expected a positive whole number of milliseconds up to ${MAX_DURATION_MS}, got ${describe(value)}`,
    });
  }
  const least = keepAlive ? MIN_KEPT_ALIVE_TTL_MS : MIN_TTL_MS;
  if (value >= least) return;
  const why = keepAlive
    ? `${value} ms is too short for a kept-alive lease (renewed every ${Math.round(value / 3)} ms, it leaves ` +
      `${Math.round((value * 2) / 3)} ms for a round trip and an event-loop stall)`
    : `${value} ms is too short to be a lease`;
  const seconds = `${(value * 1000).toLocaleString('en-US').replace(/,/g, '_')} (${value} s)`;
  const floors = keepAlive
    ? `At least ${MIN_KEPT_ALIVE_TTL_MS} ms, or ${MIN_TTL_MS} ms with keepAlive: false`
    : `At least ${MIN_TTL_MS} ms`;
  throw new LockerConfigError({
    section: where,
    field,
    message: `${why}: ${field} is in milliseconds (the Go locker's WithTTL took seconds); did you mean ${seconds}? ${floors}`,
  });
}

export function assertLockKey(key: unknown, where: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new LockerConfigError({ section: where, field: 'key', message: `expected a non-empty string, got ${describe(key)}` });
  }
  // a UTF-16 unit is at most 3 bytes of UTF-8: a short key needs no count
  if (key.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new LockerConfigError({
      section: where,
      field: 'key',
      key: key.slice(0, 40),
      message: `expected at most ${MAX_KEY_BYTES} bytes, got ${Buffer.byteLength(key)}`,
    });
  }
  // A lone surrogate has no UTF-8 form: the server would see U+FFFD, so "\uD800" and "\uDC00" would be one lock.
  if (!(key as unknown as WellFormedCheck).isWellFormed()) {
    throw new LockerConfigError({
      section: where,
      field: 'key',
      key: key.slice(0, 40),
      message: `expected well-formed Unicode, got ${describe(key)} with a lone surrogate (a half of a UTF-16 pair)`,
    });
  }
}

/** String.prototype.isWellFormed (Node 20+; the ES2024 lib typing is not in this project's target). */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/** Options, when given, are a plain object (not a string, an array or null). */
export function assertOptionsObject(options: unknown, where: string): void {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new LockerConfigError({ section: where, field: 'options', message: `expected an object, got ${describe(options)}` });
  }
}

/** Refuses an option not in `known`, naming it; `hint` is said after the names expected. */
export function assertKnownOptions(options: object, known: readonly string[], where: string, hint = ''): void {
  // on every acquisition: one pass over the given names, no copies
  for (const name in options) {
    if (!known.includes(name) && Object.hasOwn(options, name)) {
      throw new LockerConfigError({ section: where, field: name, message: `unknown option; expected one of ${known.join(', ')}${hint}` });
    }
  }
}

/** A locker section's name, as an option names it. */
export function assertLockerName(locker: unknown, where: string): asserts locker is string {
  if (typeof locker !== 'string' || locker === '') {
    throw new LockerConfigError({ section: where, field: 'locker', message: `expected a locker section name, got ${describe(locker)}` });
  }
}

/** Validates call options at the call, naming the field; merges defaults. */
export function normalizeLockOptions(options: LockerCallOptions | undefined, where: string): NormalizedLockOptions {
  if (options === undefined || options === null) return { ...LOCK_DEFAULTS };
  assertOptionsObject(options, where);
  assertKnownOptions(options, KNOWN_OPTIONS, where);
  const given = options as Record<keyof NormalizedLockOptions, unknown>;
  const ttl = given.ttl === undefined ? LOCK_DEFAULTS.ttl : given.ttl;
  const keepAlive = given.keepAlive === undefined ? LOCK_DEFAULTS.keepAlive : given.keepAlive;
  const fair = given.fair === undefined ? LOCK_DEFAULTS.fair : given.fair;
  const locker = given.locker === undefined ? LOCK_DEFAULTS.locker : given.locker;
  const { waitTime, signal } = given;
  // kept alive unless keepAlive is false (a keepAlive that is not a boolean is refused just below)
  assertTtl(ttl, 'ttl', where, keepAlive !== false);
  if (typeof keepAlive !== 'boolean') {
    throw new LockerConfigError({ section: where, field: 'keepAlive', message: `expected a boolean, got ${describe(keepAlive)}` });
  }
  if (typeof fair !== 'boolean') {
    throw new LockerConfigError({ section: where, field: 'fair', message: `expected a boolean, got ${describe(fair)}` });
  }
  assertLockerName(locker, where);
  if (waitTime !== undefined) assertDuration(waitTime, 'waitTime', where);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new LockerConfigError({ section: where, field: 'signal', message: `expected an AbortSignal, got ${describe(signal)}` });
  }
  return { ttl, keepAlive, fair, locker, waitTime, signal };
}

/** A number of milliseconds a timer can wait: 0 to MAX_DURATION_MS, naming the field otherwise. */
export function assertDuration(value: unknown, field: string, where: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DURATION_MS) {
    throw new LockerConfigError({
      section: where,
      field,
      message: `expected milliseconds from 0 to ${MAX_DURATION_MS}, got ${describe(value)}`,
    });
  }
}
