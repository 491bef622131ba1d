import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
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
  // Errors name the absolute path tried: a relative one depends on the directory the app was started from.
  const absolute = resolve(path);
  const from = isAbsolute(path) ? '' : ` ('${path}' from the working directory ${process.cwd()})`;
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (cause) {
    // 'ENOENT: no such file or directory, open 'app.toml'': the path it names is the relative one, given above
    const reason = (cause as Error).message.replace(/, \w+ '.*'$/, '');
    throw new LockerConfigError({ section: absolute, message: `cannot read the config file${from}: ${reason}`, cause });
  }
  try {
    return parse(text) as LockerConfig;
  } catch (cause) {
    throw new LockerConfigError({ section: absolute, message: `not valid TOML${from}: ${(cause as Error).message}`, cause });
  }
}
