import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'smol-toml';
import { LockerConfigError } from '../errors';
import type { LockerConfig } from '../interfaces/locker-config.interface';
import { describe } from '../utils/describe';

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
    const { line } = cause as { line?: number };
    const at = line === undefined ? {} : tomlPlace(text, line);
    const where = at.section ? ` in ${absolute}` : from;
    throw new LockerConfigError({ section: absolute, ...at, message: `not valid TOML${where}: ${(cause as Error).message}`, cause });
  }
}

/**
 * The section and field a TOML error is at, so that e.g. `tls = true` beside a `[redis.tls]` table (a
 * redefinition) is named `[redis] tls` like every other config error.
 */
function tomlPlace(text: string, line: number): { section?: string; field?: string } {
  const lines = text.split(/\r?\n/).slice(0, line);
  const header = (text: string) => /^\s*\[+\s*([^\]]+?)\s*\]+/.exec(text)?.[1];
  const at = lines[line - 1] ?? '';
  const here = header(at);
  if (here) {
    // `[redis.tls]` redefines the field `tls` of [redis]
    const dot = here.lastIndexOf('.');
    return dot < 0 ? { section: here } : { section: here.slice(0, dot), field: here.slice(dot + 1) };
  }
  const section = lines.map(header).findLast((name) => name !== undefined);
  const field = /^\s*([\w-]+)\s*=/.exec(at)?.[1];
  return section ? { section, field } : { field };
}
