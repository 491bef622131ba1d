import { LockerConfigError } from '../errors';
import { didYouMean } from '../utils/closest-name';
import { MAX_DURATION_MS } from '../utils/lock-options';
import { describe } from '../utils/describe';

/**
 * Reads typed fields of one config section and refuses unknown ones, so a typo like
 * `driver_instanse_id` fails at bootstrap instead of being ignored.
 */
export class SectionReader {
  constructor(
    readonly section: string,
    private readonly raw: Record<string, unknown>,
    allowed: readonly string[],
  ) {
    for (const field of Object.keys(raw)) {
      if (!allowed.includes(field)) {
        const expected = allowed.length ? `expected one of ${allowed.join(', ')}` : `[${section}] takes no fields`;
        this.fail(field, `unknown field${didYouMean(field, allowed)}; ${expected}`);
      }
    }
  }

  /** Whether the field is set; an empty string is "not set", as in the seed's Go configs (`auth = ""`). */
  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== '';
  }

  /** The raw value, for fields that are not plain strings or numbers (`tls`, `client`). */
  value(field: string): unknown {
    return this.raw[field];
  }

  /** Fields set in this section, in the order given. */
  fields(): string[] {
    return Object.keys(this.raw).filter((field) => this.has(field));
  }

  /**
   * An optional string that is `""` reads as not set (seed configs write `auth = ""`), unless
   * `emptyIsUnset` is false: there `""` is refused, for fields where it would look meaningful.
   */
  string(field: string, required: true): string;
  string(field: string, required?: false, emptyIsUnset?: boolean): string | undefined;
  string(field: string, required = false, emptyIsUnset = true): string | undefined {
    const value = this.raw[field];
    if (!required && (value === undefined || (value === '' && emptyIsUnset))) return undefined;
    if (typeof value !== 'string' || value === '') this.fail(field, `expected a non-empty string, got ${describe(value)}`);
    return value;
  }

  /** Capped at MAX_DURATION_MS: a larger `connect_timeout` would make Node's timer fire at once. */
  integer(field: string, min: number): number | undefined {
    const value = this.raw[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_DURATION_MS) {
      this.fail(field, `expected a whole number >= ${min} (at most ${MAX_DURATION_MS}), got ${describe(value)}`);
    }
    return value;
  }

  stringList(field: string): string[] {
    const value = this.raw[field];
    if (!Array.isArray(value) || value.length === 0 || value.some((item) => typeof item !== 'string' || item === '')) {
      this.fail(field, `expected a non-empty list of "host:port" strings, got ${describe(value)}`);
    }
    return value as string[];
  }

  fail(field: string, message: string): never {
    throw new LockerConfigError({ section: this.section, field, message });
  }
}

export function asSection(section: string, raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LockerConfigError({ section, message: `expected a table of settings, got ${describe(raw)}` });
  }
  return raw as Record<string, unknown>;
}

/** `host:port` → parts, naming the field on failure. */
export function parseHostPort(reader: SectionReader, field: string, value: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(value.replace(/^[a-z]+:\/\//, ''));
  const port = match ? Number(match[2]) : NaN;
  // A space, '@' or '/' in the host is a typo or credentials in the wrong field, never a reachable host.
  if (!match || match[1] === '' || /[\s@/[\]]/.test(match[1]) || port < 1 || port > 65535) {
    reader.fail(field, `expected "host:port" with a port from 1 to 65535, got ${describe(value)}`);
  }
  return { host: match[1], port };
}
