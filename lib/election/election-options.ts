import { LockerConfigError } from '../errors';
import { describe } from '../utils/describe';
import { assertKnownOptions, assertLockerName, assertLockKey, assertOptionsObject, assertTtl, LOCK_DEFAULTS } from '../utils/lock-options';

/** The longest value a leader may proclaim: a URL or a small JSON document, not a payload. */
export const MAX_PROCLAIMED_BYTES = 16 * 1024;

const FIELDS = ['ttl', 'locker', 'value'];

/** Election options after validation, with defaults merged. */
export interface ResolvedElectionOptions {
  ttl: number;
  locker: string;
  value?: string;
}

/** Checks an election's name, naming `where` and the field `name`. */
export function assertElectionName(name: unknown, where: string): asserts name is string {
  try {
    assertLockKey(name, where);
  } catch (error) {
    if (!(error instanceof LockerConfigError)) throw error;
    throw new LockerConfigError({ section: where, field: 'name', message: error.message.replace(/^.*?key: /, '') });
  }
}

/** Checks `election()`'s options (and `extra` fields a caller handles itself), naming `where` and the field. */
export function resolveElectionOptions(options: unknown, where: string, extra: readonly string[] = []): ResolvedElectionOptions {
  assertOptionsObject(options, where);
  const given = (options ?? {}) as Record<string, unknown>;
  assertKnownOptions(given, extra.length > 0 ? [...FIELDS, ...extra] : FIELDS, where);
  const { ttl = LOCK_DEFAULTS.ttl, locker = LOCK_DEFAULTS.locker, value } = given;
  assertTtl(ttl, 'ttl', where);
  assertLockerName(locker, where);
  if (value !== undefined && (typeof value !== 'string' || Buffer.byteLength(value) > MAX_PROCLAIMED_BYTES)) {
    throw new LockerConfigError({
      section: where,
      field: 'value',
      message: `expected a string of at most ${MAX_PROCLAIMED_BYTES} bytes (what the leader proclaims, e.g. its URL), got ${
        typeof value === 'string' ? `${Buffer.byteLength(value)} bytes` : describe(value)
      }`,
    });
  }
  return value === undefined ? { ttl, locker } : { ttl, locker, value };
}

/** Whether two resolved option sets are the same election settings. */
export const sameElectionOptions = (a: ResolvedElectionOptions, b: ResolvedElectionOptions): boolean =>
  a.ttl === b.ttl && a.locker === b.locker && a.value === b.value;
