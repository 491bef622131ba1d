import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const ROOT = resolve(__dirname, '..', '..');
const CONFIG = JSON.stringify({ locker: { driver: 'memory', driver_instance_id: 'memory' } });

/** The same app body in both module systems: bootstrap, take a lock through DI, print its token. */
const appBody = `
class AppModule {}
Module({ imports: [LockerModule.forRoot(${CONFIG})] })(AppModule);
const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const lock = await app.get(LockerService).acquire('packaged');
console.log(JSON.stringify({ token: String(lock.fencingToken), held: lock.held }));
await app.close();
`;

describe('the packed npm package', () => {
  let appDir: string;
  let files: string[];

  before(() => {
    appDir = mkdtempSync(join(tmpdir(), 'nest-locker-pack-'));
    // Built and packed in a directory of its own: rebuilding this repo's dist/lib would change it under the
    // spec files that run meanwhile.
    const stage = join(appDir, 'stage');
    mkdirSync(stage);
    for (const file of ['package.json', 'README.md']) copyFileSync(join(ROOT, file), join(stage, file));
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', appDir], { cwd: stage, encoding: 'utf8' }),
    ) as [{ filename: string; files: { path: string }[] }];
    files = packed[0].files.map((file) => file.path);
    const modules = join(appDir, 'node_modules');
    mkdirSync(join(modules, 'nest-locker'), { recursive: true });
    execFileSync('tar', ['-xzf', join(appDir, packed[0].filename), '-C', join(modules, 'nest-locker'), '--strip-components=1']);
    // The app's other dependencies are the ones this repo installed.
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (name !== '.bin' && name !== 'nest-locker') symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
    }
  });
  after(() => rmSync(appDir, { recursive: true, force: true }));

  it('ships the built library only: no specs, tests or sources', () => {
    assert.ok(files.includes('dist/lib/index.js') && files.includes('dist/lib/index.d.ts'));
    assert.deepEqual(
      files.filter((file) => /\.spec\.|^test\/|^lib\/|^sample-app\//.test(file)),
      [],
    );
  });

  it('loads in a CommonJS Nest app', () => {
    writeFileSync(
      join(appDir, 'app.cjs'),
      `require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { LockerModule, LockerService } = require('nest-locker');
(async () => {${appBody}})();`,
    );
    const output = JSON.parse(execFileSync(process.execPath, ['app.cjs'], { cwd: appDir, encoding: 'utf8' }));
    assert.deepEqual(output, { token: '1', held: true });
  });

  it('loads in an ES module Nest app, with named imports', () => {
    writeFileSync(
      join(appDir, 'app.mjs'),
      `import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LockerModule, LockerService } from 'nest-locker';
${appBody}`,
    );
    const output = JSON.parse(execFileSync(process.execPath, ['app.mjs'], { cwd: appDir, encoding: 'utf8' }));
    assert.deepEqual(output, { token: '1', held: true });
  });
});
