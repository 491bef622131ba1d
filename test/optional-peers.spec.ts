import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(__dirname, '..', '..');

/** Runs `script` in a fresh node process at the package root; its stdout. */
const runNode = (script: string): string => execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });

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
});
