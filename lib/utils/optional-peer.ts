import { LockerConfigError } from '../errors';

/**
 * Loads an optional peer package. When it is not installed, throws what `missing` makes of the failure; a
 * package that is installed but fails to load (or lacks a module of its own) throws as it is.
 */
function requirePeer<T>(packageName: string, missing: (cause: unknown) => LockerConfigError): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(packageName) as T;
  } catch (cause) {
    const { code, message } = cause as NodeJS.ErrnoException;
    if (code !== 'MODULE_NOT_FOUND' || !String(message).includes(`'${packageName}'`)) throw cause;
    throw missing(cause);
  }
}

const installHint = (packageName: string): string => `which is not installed; run: npm install ${packageName}`;

/** Loads a driver's client library only when a section uses that driver, with an install hint if missing. */
export function requireOptionalPeer<T>(packageName: string, driver: string, section: string): T {
  return requirePeer(
    packageName,
    (cause) =>
      new LockerConfigError({
        section,
        field: 'driver',
        message: `the "${driver}" driver needs the package "${packageName}", ${installHint(packageName)}`,
        cause,
      }),
  );
}

/** Loads the peer an entry point of this package is built on (`nest-locker/terminus`), with an install hint if missing. */
export function requireEntryPeer<T>(packageName: string, entryPoint: string): T {
  return requirePeer(
    packageName,
    (cause) => new LockerConfigError({ message: `${entryPoint} needs the package "${packageName}", ${installHint(packageName)}`, cause }),
  );
}
