import { describe } from './describe';
import { LockerConfigError } from '../errors';
import type { LockerCallOptions } from '../interfaces/lock-options.interface';

/** The one place lock defaults live. */
export const LOCK_DEFAULTS = { ttl: 60_000, keepAlive: true, fair: false, locker: 'locker' } as const;

/** setTimeout's ceiling (about 24.8 days): no TTL, wait or hold may be longer. */
export const MAX_DURATION_MS = 2_147_483_647;

/**
 * The shortest lease taken: below it, renewals (every ttl/3) race a round trip and one event-loop stall, so the
 * lock is lost as soon as it is taken. Values under it are seconds written as milliseconds (the Go locker's
 * `WithTTL(10)`), which nobody means as a lease.
 */
export const MIN_TTL_MS = 100;

/** Keys longer than this are refused: they cost memory on every server round trip. */
export const MAX_KEY_BYTES = 1024;

const KNOWN_OPTIONS = new Set(['ttl', 'keepAlive', 'waitTime', 'signal', 'fair', 'locker']);

export interface NormalizedLockOptions {
  ttl: number;
  keepAlive: boolean;
  fair: boolean;
  locker: string;
  waitTime?: number;
  signal?: AbortSignal;
}

export function assertTtl(value: unknown, field: string, where: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > MAX_DURATION_MS) {
    throw new LockerConfigError({
      section: where,
      field,
      message: `expected a positive whole number of milliseconds up to ${MAX_DURATION_MS}, got ${describe(value)}`,
    });
  }
  if (value < MIN_TTL_MS) {
    throw new LockerConfigError({
      section: where,
      field,
      message:
        `${value} ms is too short to be a lease: ${field} is in milliseconds (the Go locker's WithTTL took seconds); ` +
        `did you mean ${(value * 1000).toLocaleString('en-US').replace(/,/g, '_')} (${value} s)? At least ${MIN_TTL_MS} ms`,
    });
  }
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

/** Validates call options at the call, naming the field; merges defaults. */
export function normalizeLockOptions(options: LockerCallOptions | undefined, where: string): NormalizedLockOptions {
  if (options === undefined || options === null) return { ...LOCK_DEFAULTS };
  assertOptionsObject(options, where);
  // on every acquisition: one pass over the given names, no copies; the result has one shape
  for (const name in options) {
    if (!KNOWN_OPTIONS.has(name) && Object.hasOwn(options, name)) {
      throw new LockerConfigError({
        section: where,
        field: name,
        message: `unknown option; expected one of ${[...KNOWN_OPTIONS].join(', ')}`,
      });
    }
  }
  const given = options as Record<keyof NormalizedLockOptions, unknown>;
  const ttl = given.ttl === undefined ? LOCK_DEFAULTS.ttl : given.ttl;
  const keepAlive = given.keepAlive === undefined ? LOCK_DEFAULTS.keepAlive : given.keepAlive;
  const fair = given.fair === undefined ? LOCK_DEFAULTS.fair : given.fair;
  const locker = given.locker === undefined ? LOCK_DEFAULTS.locker : given.locker;
  const { waitTime, signal } = given;
  assertTtl(ttl, 'ttl', where);
  if (typeof keepAlive !== 'boolean') {
    throw new LockerConfigError({ section: where, field: 'keepAlive', message: `expected a boolean, got ${describe(keepAlive)}` });
  }
  if (typeof fair !== 'boolean') {
    throw new LockerConfigError({ section: where, field: 'fair', message: `expected a boolean, got ${describe(fair)}` });
  }
  if (typeof locker !== 'string' || locker === '') {
    throw new LockerConfigError({
      section: where,
      field: 'locker',
      message: `expected a locker section name, got ${describe(locker)}`,
    });
  }
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
