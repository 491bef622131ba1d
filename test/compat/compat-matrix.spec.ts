import assert from 'node:assert/strict';
import { execFile as execFileCallback } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Lock } from 'nest-locker';
import { startRedis, TestServer } from '../harness/servers';
import { LockerApp, startLockerApp } from '../helpers/locker-app';

const execFile = promisify(execFileCallback);
const ROOT = resolve(__dirname, '..', '..', '..');
const APPS = join(ROOT, 'test', 'compat', 'apps');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The matrix: each app is test/compat/apps/<dir> with compat-app.ts as its src/main.ts. */
const MATRIX = [
  { dir: 'cjs-nest11', system: 'cjs', nest: '11', ioredis: '5' },
  { dir: 'esm-nest12', system: 'esm', nest: '12', ioredis: '6' },
] as const;

interface AppReport {
  system: string;
  nest: string;
  ioredis: string;
  paid: { key?: string; token: string; held?: boolean };
  busy: string;
  holding: boolean;
  runs: { start: number; end: number; token: string }[];
}

interface Built {
  /** tsc's output: empty when the app typechecked (skipLibCheck: false) and compiled. */
  compile: string;
  report?: AppReport;
  runError?: unknown;
}

const failure = (error: unknown): string => {
  const { stdout = '', stderr = '', message } = error as { stdout?: string; stderr?: string; message: string };
  return `${message}\n${stdout}\n${stderr}`;
};

/**
 * The packed tarball, installed from the registry into fresh app directories beside the Nest and ioredis majors
 * the peer ranges promise, built with this repo's TypeScript and run against a private redis. Installs use npm's
 * cache (`--prefer-offline`), so a repeated run costs seconds.
 */
describe('compatibility matrix: the packed package in fresh apps', { timeout: 600_000 }, () => {
  let work: string;
  let redis: TestServer;
  let holder: LockerApp;
  let busy: Lock;
  let packedFiles: string[];
  const built = new Map<string, Built>();

  before(
    async () => {
      work = mkdtempSync(join(tmpdir(), 'nest-locker-compat-'));
      redis = await startRedis();
      // The suite compiled dist/ already (same options as the build): pack it as is, without rebuilding under
      // specs that are running from it.
      const { stdout } = await execFile('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT });
      const [packed] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
      packedFiles = packed.files.map((file) => file.path);
      const tarball = join(work, packed.filename);

      await Promise.all(
        MATRIX.map(async ({ dir }) => {
          const app = join(work, dir);
          mkdirSync(join(app, 'src'), { recursive: true });
          const manifest = JSON.parse(readFileSync(join(APPS, dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
          manifest.dependencies['nest-locker'] = `file:${tarball}`;
          writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
          copyFileSync(join(APPS, dir, 'tsconfig.json'), join(app, 'tsconfig.json'));
          copyFileSync(join(APPS, 'compat-app.ts'), join(app, 'src', 'main.ts'));
          await execFile('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
          let compile = '';
          try {
            await execFile(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app });
          } catch (error) {
            compile = failure(error);
          }
          built.set(dir, { compile });
        }),
      );

      // Held from this process: the apps must see it taken (their onBusy: 'skip' method does not run).
      holder = await startLockerApp({ redis: { addr: redis.addr }, locker: { driver: 'redis', driver_instance_id: 'redis' } });
      busy = await holder.service.acquire('compat-busy');
      // Both apps at once, on one redis: their @LockedInterval loops contend for the same key.
      await Promise.all(
        MATRIX.map(async ({ dir }) => {
          const entry = built.get(dir) as Built;
          if (entry.compile) return;
          try {
            const { stdout } = await execFile(process.execPath, ['dist/main.js'], {
              cwd: join(work, dir),
              env: { ...process.env, REDIS_ADDR: redis.addr },
              timeout: 60_000,
            });
            entry.report = JSON.parse(stdout.trim().split('\n').pop() as string) as AppReport;
          } catch (error) {
            entry.runError = failure(error);
          }
        }),
      );
    },
    { timeout: 600_000 },
  );

  after(async () => {
    await busy?.release();
    await holder?.close();
    await redis?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the tarball ships the built library, LICENSE, the docs the README links and source maps that carry their sources; no specs or tests', () => {
    for (const file of [
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/lib/driver-kit.js',
      'dist/lib/driver-kit.d.ts',
      'LICENSE',
      'docs/safety.md',
    ]) {
      assert.ok(packedFiles.includes(file), file);
    }
    assert.deepEqual(
      packedFiles.filter((file) => /\.spec\.|^test\/|^lib\/|^sample-app\//.test(file)),
      [],
    );
    const map = JSON.parse(
      readFileSync(join(work, 'esm-nest12', 'node_modules', 'nest-locker', 'dist', 'lib', 'index.js.map'), 'utf8'),
    ) as {
      sourcesContent?: string[];
    };
    assert.equal(map.sourcesContent?.[0], readFileSync(join(ROOT, 'lib', 'index.ts'), 'utf8'));
  });

  it('a consumer with only ioredis installed (no etcd3) typechecks with skipLibCheck: false, on both entries', () => {
    for (const { dir } of MATRIX) {
      assert.equal(existsSync(join(work, dir, 'node_modules', 'etcd3')), false, `${dir} has no etcd3`);
      const { compilerOptions } = JSON.parse(readFileSync(join(work, dir, 'tsconfig.json'), 'utf8')) as {
        compilerOptions: { skipLibCheck: boolean };
      };
      assert.equal(compilerOptions.skipLibCheck, false);
      assert.equal(built.get(dir)?.compile, '', `${dir}: tsc reported errors`);
    }
  });

  for (const { dir, system, nest, ioredis } of MATRIX) {
    it(`Nest ${nest} + ioredis ${ioredis} as ${system === 'cjs' ? 'CommonJS' : 'an ES module'}: boots, @WithLock and @LockedInterval take their locks on redis`, () => {
      const { report, runError, compile } = built.get(dir) as Built;
      assert.equal(compile, '', compile);
      assert.ok(report, String(runError));
      assert.equal(report.system, system);
      assert.equal(report.nest.split('.')[0], nest);
      assert.equal(report.ioredis.split('.')[0], ioredis);
      assert.equal(report.paid.key, 'compat-pay:42');
      assert.equal(report.paid.held, true);
      assert.match(report.paid.token, /^\d+$/);
      assert.equal(report.busy, 'skipped', 'the lock this test holds kept the method from running');
      assert.equal(report.holding, true);
      assert.ok(report.runs.length >= 3);
      assert.equal(new Set(report.runs.map((run) => run.token)).size, 1, 'every loop run under one lock');
    });
  }

  it('the two apps, run at once, exclude each other: their loop runs never overlap, each under its own token', () => {
    const [first, second] = MATRIX.map(({ dir }) => built.get(dir)?.report);
    assert.ok(first && second, 'both apps ran');
    assert.notEqual(first.runs[0].token, second.runs[0].token);
    for (const a of first.runs) {
      for (const b of second.runs) assert.ok(a.end <= b.start || b.end <= a.start, `runs overlap: ${JSON.stringify([a, b])}`);
    }
    assert.notEqual(first.paid.token, second.paid.token, 'each pay took the lock anew');
  });
});
