import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { LockerConfigError } from '../errors';
import type { LockerConfig } from '../interfaces/locker-config.interface';

/** Reads a TOML file shaped like the seed's app.toml (other sections are kept and ignored). */
export function loadLockerConfig(path: string): LockerConfig {
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
