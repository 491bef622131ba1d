import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

// The declarations this build emitted (tsconfig.build.json extends tsconfig.json: same options, stripInternal too).
const DIST_LIB = resolve(__dirname, '..', 'lib');

/** What an application uses. A name added to `nest-locker` must be added here on purpose. */
const APP_API = [
  'CampaignOptions',
  'Election',
  'ElectionOptions',
  'LeaderInfo',
  'OnLeadership',
  'OnLeadershipOptions',
  'DriverHealth',
  'EtcdConnectionConfig',
  'getLockerDriverToken',
  'InjectLockerDriver',
  'loadLockerConfig',
  'Lock',
  'LockBusyError',
  'LockContext',
  'LockedInterval',
  'LockedIntervalOptions',
  'LockedIntervalRegistry',
  'LockedLoopState',
  'LockedLoopStatus',
  'LockerCallOptions',
  'LockerClosedError',
  'LockerConfig',
  'LockerConfigError',
  'LockerConfigFactory',
  'LockerHealth',
  'LockerError',
  'LockerErrorCode',
  'LockerErrorFields',
  'LockerExceptionFilter',
  'LockerModule',
  'LockerModuleAsyncOptions',
  'LockerModuleOptions',
  'LockerNotReadyError',
  'LockerSectionConfig',
  'LockerService',
  'LockerUnavailableError',
  'LockerUnavailableFields',
  'Locker',
  'LockChannelMessage',
  'LockEvent',
  'LOCK_EVENTS_CHANNEL',
  'LockHolder',
  'LockHolding',
  'LockInfo',
  'LockKey',
  'LockKind',
  'LockLostError',
  'LockLostReason',
  'LockOptions',
  'LockReleasedError',
  'LockWaitTimeoutError',
  'OnBusy',
  'OperatorOptions',
  'PermitOptions',
  'RedisConnectionConfig',
  'WithLock',
  'WithLockOptions',
  'WithPermit',
  'WithPermitOptions',
  'WithReadLock',
  'WithWriteLock',
];

/** What a driver author needs, behind `nest-locker/driver-kit`. */
const DRIVER_KIT = [
  'LeaderInfo',
  'LeaderWatch',
  'AbstractLockerDriver',
  'AcquireRequest',
  'DriverContext',
  'HeldLock',
  'HeldLockInit',
  'HeldLockOwner',
  'LOCK_DEFAULTS',
  'LockerDriver',
  'LockerDriverFactory',
  'LockEventSink',
  'LockInspection',
  'LockKind',
  'LockNamespace',
  'LockRemote',
  'mayHold',
  'namespaceOf',
  'QueuedSpec',
  'registerLockerDriver',
  'registeredLockerDrivers',
  'RenewalBatcher',
  'RenewalResult',
  'SectionReader',
  'WaitScope',
  'WakeSource',
];

interface Walk {
  exported: Set<string>;
  /** Every declaration file the entry reaches through imports and re-exports. */
  files: Set<string>;
  /** Modules outside the package that those files import. */
  packages: Set<string>;
}

const SPECIFIER = /(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;

function declarationFile(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier);
  const file = [`${base}.d.ts`, join(base, 'index.d.ts')].find((candidate) => existsSync(candidate));
  assert.ok(file, `${relative(DIST_LIB, from)} imports ${specifier}, which has no declaration file`);
  return file;
}

/** Names a declaration file exports, following `export *` and collecting what it reaches. */
function walk(entry: string): Walk {
  const result: Walk = { exported: new Set(), files: new Set(), packages: new Set() };
  const exportsOf = (file: string): string[] => {
    const text = readFileSync(file, 'utf8');
    const names: string[] = [];
    for (const [, list] of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
      for (const item of list
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)) {
        names.push(
          item
            .replace(/^type\s+/, '')
            .split(/\s+as\s+/)
            .pop() as string,
        );
      }
    }
    for (const [, name] of text.matchAll(
      /export\s+(?:declare\s+)?(?:abstract\s+)?(?:class|interface|type|function|const|let|enum)\s+([A-Za-z_$][\w$]*)/g,
    )) {
      names.push(name);
    }
    for (const [, specifier] of text.matchAll(/export\s+\*\s+from\s+['"]([^'"]+)['"]/g)) {
      names.push(...exportsOf(declarationFile(file, specifier)));
    }
    return names;
  };
  const visit = (file: string): void => {
    if (result.files.has(file)) return;
    result.files.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      if (specifier.startsWith('.')) visit(declarationFile(file, specifier));
      else result.packages.add(specifier);
    }
  };
  exportsOf(entry).forEach((name) => result.exported.add(name));
  visit(entry);
  return result;
}

const sorted = (names: Iterable<string>): string[] => [...names].sort((a, b) => a.localeCompare(b));
const optionalPeers = (packages: Set<string>): string[] =>
  [...packages].filter((name) => /^(ioredis|etcd3|@nestjs\/terminus|@opentelemetry\/[\w-]+)(\/|$)/.test(name));

describe('public API: the declarations of each entry', () => {
  it("'nest-locker' exports exactly what an application uses", () => {
    assert.deepEqual(sorted(walk(join(DIST_LIB, 'index.d.ts')).exported), sorted(APP_API));
  });

  it("'nest-locker' reaches no concrete driver, no driver SPI and no declaration of ioredis, etcd3, terminus or OpenTelemetry", () => {
    const { files, packages } = walk(join(DIST_LIB, 'index.d.ts'));
    const reached = sorted([...files].map((file) => relative(DIST_LIB, file)));
    assert.deepEqual(
      reached.filter((file) =>
        /^drivers\/(redis|etcd|memory)\/|^lock\/(held-lock|renewal-batcher|wait-scope)|^config\/section-reader/.test(file),
      ),
      [],
    );
    assert.deepEqual(optionalPeers(packages), []);
    // @internal members are stripped, so an app cannot call them.
    assert.doesNotMatch(readFileSync(join(DIST_LIB, 'locker.service.d.ts'), 'utf8'), /\btrack\s*[<(]/);
  });

  it("'nest-locker/driver-kit' exports the driver SPI, without ioredis or etcd3", () => {
    const kit = walk(join(DIST_LIB, 'driver-kit.d.ts'));
    assert.deepEqual(sorted(kit.exported), sorted(DRIVER_KIT));
    assert.deepEqual(optionalPeers(kit.packages), []);
  });

  it("'nest-locker/terminus' exports LockerHealthIndicator only", () => {
    const terminus = walk(join(DIST_LIB, 'terminus.d.ts'));
    assert.deepEqual(sorted(terminus.exported), ['LockerHealthIndicator']);
  });

  it('package.json maps every entry to its declarations, and the bin to the CLI', () => {
    const manifest = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
      bin: Record<string, string>;
    };
    assert.deepEqual(manifest.exports['.'], { types: './dist/lib/index.d.ts', default: './dist/lib/index.js' });
    assert.deepEqual(manifest.exports['./driver-kit'], { types: './dist/lib/driver-kit.d.ts', default: './dist/lib/driver-kit.js' });
    assert.deepEqual(manifest.exports['./terminus'], { types: './dist/lib/terminus.d.ts', default: './dist/lib/terminus.js' });
    assert.deepEqual(manifest.bin, { 'nest-locker': 'dist/lib/cli/nest-locker.js' });
    assert.ok(existsSync(resolve(__dirname, '..', 'lib', 'cli', 'nest-locker.js')), 'the bin is built');
  });
});
