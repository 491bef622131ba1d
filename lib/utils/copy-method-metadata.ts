/**
 * Copies every reflect-metadata entry of `from` onto `to`, so that decorators applied before a wrapping
 * decorator (`@Cron`, `@Interval`, `@OnEvent`, routes, guards) still see their metadata on the wrapper.
 */
export function copyMethodMetadata(from: object, to: object): void {
  for (const key of Reflect.getOwnMetadataKeys(from) as unknown[]) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
}

/** Gives `wrapper` the `name` and `length` of `original`, for logs, stack traces and reflection. */
export function keepFunctionIdentity(original: Function, wrapper: Function): void {
  Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
}
