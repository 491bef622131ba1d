import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(__dirname, '..', '..');

/** Runs `script` in a fresh node process at the package root; its stdout. */
const runNode = (script: string): string => execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });

/** A line for a `node -e` script that makes `name` (and its subpaths) not installed, as npm would leave it. */
const hide = (name: string): string => `
  const Module = require('node:module');
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    if (request === ${JSON.stringify(name)} || request.startsWith(${JSON.stringify(`${name}/`)})) {
      throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
    }
    return resolveFilename.call(this, request, ...rest);
  };`;

describe('optional peers: an app loads only what it uses', () => {
  it("importing 'nest-locker' loads neither @nestjs/terminus nor @opentelemetry/api", () => {
    const loaded = runNode(`
      require('reflect-metadata');
      require('nest-locker');
      const peers = Object.keys(require.cache).filter((file) => /node_modules[\\\\/](@nestjs[\\\\/]terminus|@opentelemetry)/.test(file));
      process.stdout.write(JSON.stringify(peers));
    `);
    assert.deepEqual(JSON.parse(loaded), []);
  });

  it('without @opentelemetry/api installed, the module starts and locks work', () => {
    const answer = runNode(`
      require('reflect-metadata');
      const Module = require('node:module');
      const resolveFilename = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request.startsWith('@opentelemetry/')) throw Object.assign(new Error('Cannot find module ' + request), { code: 'MODULE_NOT_FOUND' });
        return resolveFilename.call(this, request, ...rest);
      };
      const { NestFactory } = require('@nestjs/core');
      const { LockerModule, LockerService } = require('nest-locker');
      (async () => {
        const app = await NestFactory.createApplicationContext(LockerModule.forRoot({ locker: { driver: 'memory', driver_instance_id: 'memory' } }), { logger: false });
        const lock = await app.get(LockerService).acquire('no-otel');
        await lock.release();
        await app.close();
        process.stdout.write(JSON.stringify({ token: String(lock.fencingToken) }));
      })().catch((error) => { process.stderr.write(String(error && error.stack)); process.exit(1); });
    `);
    assert.deepEqual(JSON.parse(answer), { token: '1' });
  });

  /** An app whose config uses `section`: what a user of that driver starts. */
  const appUsing = (section: string) =>
    `await require('@nestjs/core').NestFactory.createApplicationContext(require('nest-locker').LockerModule.forRoot(` +
    `{ ${section}, locker: { driver: '${section.split(':')[0]}', driver_instance_id: '${section.split(':')[0]}' } }), { logger: false, abortOnError: false })`;
  const peers: [peer: string, what: string, use: string][] = [
    ['ioredis', 'an app with a redis section', appUsing("redis: { addr: '127.0.0.1:1', connect_timeout: 500 }")],
    ['etcd3', 'an app with an etcd section', appUsing("etcd: { endpoints: ['127.0.0.1:1'], connect_timeout: 500 }")],
    ['@nestjs/terminus', "require('nest-locker/terminus')", "require('nest-locker/terminus')"],
  ];
  for (const [peer, what, use] of peers) {
    it(`without ${peer} installed, ${what} fails with "npm install ${peer}"`, () => {
      const script = `require('reflect-metadata');${hide(peer)}
        (async () => { ${use}; })().then(
          () => process.stdout.write('{"name":"none","message":"it loaded"}'),
          (error) => process.stdout.write(JSON.stringify({ name: error.constructor.name, message: error.message })),
        ).finally(() => process.exit(0));`;
      const run = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      assert.equal(run.status, 0, run.stderr);
      const error = JSON.parse(run.stdout) as { name: string; message: string };
      assert.equal(error.name, 'LockerConfigError', run.stdout);
      assert.ok(error.message.includes(`run: npm install ${peer}`), error.message);
    });
  }
});
