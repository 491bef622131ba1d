import { LockerConfigError } from '../errors';
import type { LockKey } from '../interfaces/with-lock-options.interface';
import { describe } from './describe';

/** `{0}` is the first argument, `{1.user.id}` a property path into the second. */
const PLACEHOLDER = /\{(\d+)((?:\.[A-Za-z_$][\w$]*)*)\}/g;
/** `{id}`, `{order.id}`: a name where the position of an argument belongs (parameter names are gone at run time). */
const NAMED_PLACEHOLDER = /\{\s*([A-Za-z_$][\w$]*)((?:\.[A-Za-z_$][\w$]*)*)\s*\}/;

/** Turns a `LockKey` into a function of the call's arguments; checks its shape once, at decoration. */
export function compileLockKey(key: LockKey, where: string): (args: unknown[]) => string {
  if (typeof key === 'function') {
    return (args) => {
      const value: unknown = key(...args);
      if (typeof value !== 'string' || value === '') {
        throw new LockerConfigError({
          section: where,
          field: 'key',
          message: `the key function returned ${describe(value)}; expected a non-empty string`,
        });
      }
      return value;
    };
  }
  if (typeof key !== 'string' || key === '') {
    throw new LockerConfigError({
      section: where,
      field: 'key',
      message: `expected a non-empty string, a template like 'order:{0.id}', or a function; got ${describe(key)}`,
    });
  }
  const named = NAMED_PLACEHOLDER.exec(key);
  if (named) {
    const [placeholder, name, path] = named;
    throw new LockerConfigError({
      section: where,
      field: 'key',
      message:
        `${placeholder} in '${key}' names a parameter, but placeholders are positional: '{0}' is the first argument, ` +
        `'{0${path || `.${name}`}}' the ${(path || `.${name}`).slice(1)} property of the first (use the argument's position); ` +
        'or pass a function, (...args) => string',
    });
  }
  if (!new RegExp(PLACEHOLDER.source).test(key)) return () => key; // not PLACEHOLDER.test: /g keeps state
  return (args) =>
    key.replace(PLACEHOLDER, (placeholder: string, index: string, path: string) => {
      let value: unknown = args[Number(index)];
      for (const name of path.split('.').slice(1))
        value = value === null || value === undefined ? undefined : (value as Record<string, unknown>)[name];
      if (!['string', 'number', 'bigint', 'boolean'].includes(typeof value) || value === '') {
        throw new LockerConfigError({
          section: where,
          field: 'key',
          message: `${placeholder} in '${key}' is ${describe(value)} for this call; expected a string or number`,
        });
      }
      return String(value);
    });
}
