import { LockerConfigError } from '../errors';
import { getLockerDriverFactory, registeredLockerDrivers } from '../drivers/driver-registry';
import type { LockerConfig } from '../interfaces/locker-config.interface';
import type { LockerDriverFactory } from '../interfaces/locker-driver.interface';
import { didYouMean } from '../utils/closest-name';
import { describe } from '../utils/describe';
import { asSection, SectionReader } from './section-reader';

const LOCKER_SECTION_FIELDS = ['driver', 'driver_instance_id', 'key_prefix'] as const;

export interface LockerSection {
  name: string;
  driver: string;
  driverInstanceId: string;
  keyPrefix: string;
}

export interface DriverInstanceSpec {
  instanceId: string;
  factory: LockerDriverFactory;
  settings: unknown;
}

/** The config after validation: what each locker section uses, and which driver instances to create. */
export interface ResolvedLockerConfig {
  lockers: Map<string, LockerSection>;
  instances: Map<string, DriverInstanceSpec>;
}

/** A section is a locker section when it says `driver` or `driver_instance_id`; others are left alone. */
function isLockerSection(raw: unknown): boolean {
  return raw !== null && typeof raw === 'object' && ('driver' in raw || 'driver_instance_id' in raw);
}

/** Validates the whole config at once; every error names its section and field. */
export function resolveLockerConfig(config: LockerConfig): ResolvedLockerConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new LockerConfigError({ message: `LockerModule config: expected an object of sections, got ${describe(config)}` });
  }
  const lockers = new Map<string, LockerSection>();
  const instances = new Map<string, DriverInstanceSpec>();
  const names = Object.keys(config);

  for (const name of names.filter((section) => isLockerSection(config[section]))) {
    const reader: SectionReader = new SectionReader(name, asSection(name, config[name]), LOCKER_SECTION_FIELDS);
    const driver = reader.string('driver', true);
    const factory = getLockerDriverFactory(driver);
    if (!factory) {
      reader.fail(
        'driver',
        `unknown driver "${driver}"${didYouMean(driver, registeredLockerDrivers())}; expected one of ${registeredLockerDrivers().join(', ')}, or a driver registered with registerLockerDriver()`,
      );
    }
    const driverInstanceId = reader.string('driver_instance_id', true);
    const raw = config[driverInstanceId];
    if (raw === undefined && factory.name !== 'memory') {
      reader.fail(
        'driver_instance_id',
        `no section [${driverInstanceId}] in the config${didYouMean(driverInstanceId, names)}; expected the name of a connection section such as [${driver}]`,
      );
    }
    if (isLockerSection(raw)) {
      reader.fail('driver_instance_id', `[${driverInstanceId}] is a locker section; expected a connection section`);
    }
    const existing = instances.get(driverInstanceId);
    if (existing && existing.factory !== factory) {
      reader.fail(
        'driver',
        `[${driverInstanceId}] is already used with driver "${existing.factory.name}"; one connection section serves one driver`,
      );
    }
    if (!existing) {
      const settings = factory.parseConnection(driverInstanceId, raw === undefined ? undefined : asSection(driverInstanceId, raw));
      instances.set(driverInstanceId, { instanceId: driverInstanceId, factory, settings });
    }
    const keyPrefix = keyPrefixOf(reader, factory);
    // Redis Cluster hashes the first {...} of a name: braces in the prefix would pick a lock's slot (one slot
    // for every lock) or split its keys across slots (CROSSSLOT). Refused on every topology: a server may
    // become a cluster later, and its keys should not have to change then.
    if (factory.name === 'redis' && /[{}]/.test(keyPrefix)) {
      reader.fail('key_prefix', `expected no "{" or "}" in a redis key_prefix (Redis Cluster hash tags), got "${keyPrefix}"`);
    }
    lockers.set(name, { name, driver, driverInstanceId, keyPrefix });
  }

  refuseNestedKeyPrefixes([...lockers.values()]);
  if (lockers.size === 0) {
    throw new LockerConfigError({
      section: 'locker',
      message:
        'no locker section in the config; expected e.g. { locker: { driver: "redis", driver_instance_id: "redis" }, redis: { addr: "127.0.0.1:6379" } }',
    });
  }
  return { lockers, instances };
}

/** `key_prefix = ""` is refused rather than read as "not set": it looks like "no prefix", which it is not. */
const keyPrefixOf = (reader: SectionReader, factory: LockerDriverFactory): string =>
  reader.string('key_prefix', false, false) ?? factory.defaultKeyPrefix;

/**
 * Drivers that close a key with a delimiter the escaped key never contains (redis: `<prefix>{<key>}`), so
 * no two prefixes can make one server name. Others (etcd's `<prefix><key>/` ranges, memory's
 * `<prefix><key>`) are checked below; a driver registered later is checked too, to be safe.
 */
const DELIMITED_KEY_DRIVERS = new Set(['redis']);

/**
 * Two locker sections on one connection whose key prefixes nest ('app/' and 'app/x/') share server names:
 * on etcd, key 'x' of the first would queue behind key 'y' of the second. Equal prefixes are one namespace
 * on purpose and are allowed.
 */
function refuseNestedKeyPrefixes(lockers: LockerSection[]): void {
  for (const outer of lockers) {
    if (DELIMITED_KEY_DRIVERS.has(outer.driver)) continue;
    const inner = lockers.find(
      (other) =>
        other.driverInstanceId === outer.driverInstanceId &&
        other.keyPrefix !== outer.keyPrefix &&
        other.keyPrefix.startsWith(outer.keyPrefix),
    );
    if (inner) {
      throw new LockerConfigError({
        section: inner.name,
        field: 'key_prefix',
        message: `"${inner.keyPrefix}" starts with "${outer.keyPrefix}", the key_prefix of [${outer.name}] on the same connection [${outer.driverInstanceId}], so keys of the two sections could name the same ${outer.driver} lock; expected prefixes where neither starts with the other (e.g. "app/a/" and "app/b/"), or the same prefix to share locks`,
      });
    }
  }
}
