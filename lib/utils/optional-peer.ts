import { LockerConfigError } from '../errors';

/** Loads a driver's client library only when a section uses that driver, with an install hint if missing. */
export function requireOptionalPeer<T>(packageName: string, driver: string, section: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(packageName) as T;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw cause;
    throw new LockerConfigError({
      section,
      field: 'driver',
      message: `the "${driver}" driver needs the package "${packageName}", which is not installed; run: npm install ${packageName}`,
      cause,
    });
  }
}
