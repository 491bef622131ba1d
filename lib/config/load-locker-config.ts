import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { LockerConfigError } from '../errors';
import type { LockerConfig } from '../interfaces/locker-config.interface';
import { describe } from '../utils/lock-options';

/** Reads a TOML file shaped like the seed's app.toml (other sections are kept and ignored). */
export function loadLockerConfig(path: string): LockerConfig {
  // readFileSync(0) would read stdin: only a path is taken.
  if (typeof path !== 'string' || path === '') {
    throw new LockerConfigError({
      section: 'loadLockerConfig()',
      field: 'path',
      message: `expected the path of a TOML file such as 'app.toml', got ${describe(path)}`,
    });
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new LockerConfigError({ section: path, message: `cannot read the config file: ${(cause as Error).message}`, cause });
  }
  try {
    return parse(text) as LockerConfig;
  } catch (cause) {
    throw new LockerConfigError({ section: path, message: `not valid TOML: ${(cause as Error).message}`, cause });
  }
}
