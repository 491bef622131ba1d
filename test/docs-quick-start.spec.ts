import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { redisCommand } from './harness/redis-command';
import { startRedis, type TestServer } from './harness/servers';
import { markdownCodeBlocks } from './docs/markdown-code-blocks';
import { eventually } from './helpers/wait';

// Compiled to dist/test/: the repository is two levels up.
const REPO = join(__dirname, '..', '..');
const TSC = join(REPO, 'node_modules', '.bin', 'tsc');
/** The address the quick start is written for; the test points it at its own private redis. */
const README_ADDR = "'127.0.0.1:6379'";

/** The README's quick start, as written: the first ts block. */
function quickStartText(): string {
  const [quickStart] = markdownCodeBlocks(join(REPO, 'README.md')).filter((block) => block.lang === 'ts');
  assert.match(quickStart.text, /LockerModule\.forRoot/, 'the first ts block of README.md is not the quick start');
  return quickStart.text;
}

/**
 * Builds `source` as a reader's new project would, following the README: a directory outside this repository
 * (nothing found by walking up to its node_modules or tsconfig), `npm pkg set type=module`, the tsconfig.json
 * that this TypeScript's `tsc --init` writes, untouched, and on the command line the options the README says to
 * set. node_modules has the packages the snippet imports (nest-locker is this repo, built to dist/lib by the
 * test build) and nothing else of its own: no @types/node. Returns tsc's output, or '' when it compiled.
 */
function buildLikeANewProject(app: string, source: string): string {
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'quick-start', private: true, type: 'module' }));
  const imported = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map(([, name]) => name);
  assert.deepEqual(
    imported.sort(),
    ['@nestjs/common', '@nestjs/core', 'nest-locker'],
    'the quick start imports what its install line installs',
  );
  for (const name of imported) {
    mkdirSync(dirname(join(app, 'node_modules', name)), { recursive: true });
    symlinkSync(name === 'nest-locker' ? REPO : join(REPO, 'node_modules', name), join(app, 'node_modules', name), 'dir');
  }
  writeFileSync(join(app, 'src', 'main.ts'), source);
  const init = spawnSync(TSC, ['--init'], { cwd: app, encoding: 'utf8' });
  assert.equal(init.status, 0, `tsc --init failed: ${init.stdout}${init.stderr}`);
  const readmeOptions = ['--rootDir', 'src', '--outDir', 'dist', '--experimentalDecorators', '--emitDecoratorMetadata'];
  const tsc = spawnSync(TSC, ['-p', app, '--pretty', 'false', ...readmeOptions], { cwd: app, encoding: 'utf8' });
  return tsc.status === 0 ? '' : `${tsc.stdout}${tsc.stderr}` || `tsc exited with ${tsc.status}`;
}

/** One instance of the quick start, with what it printed so far. */
function startInstance(app: string, redis: TestServer): { process: ChildProcess; output: () => string; exited: Promise<unknown> } {
  const child = spawn(process.execPath, [join(app, 'dist', 'main.js')], {
    cwd: app,
    env: { ...process.env, REDIS_ADDR: redis.addr, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { process: child, output: () => output, exited };
}

const printed = (instance: { output: () => string }, text: string): Promise<string> =>
  eventually(
    async () => instance.output(),
    (output) => output.includes(text),
    20_000,
  );

const printedLine = (instance: { output: () => string }, line: RegExp): Promise<string> =>
  eventually(
    async () => instance.output(),
    (output) => line.test(output),
    20_000,
  );

/** Nest's logger line of `pid` for the loop's run: `[Nest] 4242  - <date>     LOG [Billing] report`. */
const reportOf = (pid: number | undefined): RegExp => new RegExp(`\\[Nest\\] ${pid} .*\\[Billing\\] report`);

describe("README's quick start", () => {
  let app: string;
  let redis: TestServer;
  const instances: ChildProcess[] = [];

  before(async () => {
    app = mkdtempSync(join(tmpdir(), 'nest-locker-quick-start-'));
    redis = await startRedis();
  });

  after(async () => {
    for (const child of instances) if (child.exitCode === null) child.kill('SIGKILL');
    await redis?.stop();
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('compiles as written in a new TypeScript project (tsc --init of this TypeScript, no @types/node)', () => {
    const source = quickStartText();
    assert.ok(source.includes(README_ADDR), `the quick start connects to ${README_ADDR}, as its text says`);
    const errors = buildLikeANewProject(app, source.replace(README_ADDR, `'${redis.addr}'`));
    assert.equal(errors, '', `the quick start does not compile in a new project:\n${errors}`);
  });

  it('runs: one instance reports; the next takes over at once at SIGTERM, and within the ttl at SIGKILL', async () => {
    const start = () => {
      const instance = startInstance(app, redis);
      instances.push(instance.process);
      return instance;
    };
    const first = start();
    // the charge and the loop's first run each take a lock: either may print first
    assert.match(await printed(first, 'charged invoice 42'), /charged invoice 42/, first.output());
    assert.match(await printedLine(first, reportOf(first.process.pid)), reportOf(first.process.pid));

    const second = start();
    assert.match(await printed(second, 'charged invoice 42'), /charged invoice 42/, second.output());

    // Nest's shutdown hook closes the app, then raises the signal again: the exit is by SIGTERM either way.
    first.process.kill('SIGTERM');
    await first.exited;
    assert.match(await printedLine(second, reportOf(second.process.pid)), reportOf(second.process.pid));

    // A crash releases nothing: the third instance gets the loop when the dead one's lease (ttl 5 s) runs out.
    const third = start();
    assert.match(await printed(third, 'charged invoice 42'), /charged invoice 42/, third.output());
    second.process.kill('SIGKILL');
    await second.exited;
    assert.match(await printedLine(third, reportOf(third.process.pid)), reportOf(third.process.pid));

    third.process.kill('SIGTERM');
    await third.exited;
    assert.equal(await redisCommand(redis.port, 'EXISTS', 'nest-locker:{Billing.report}'), 0, 'the loop lock was left on the server');
  });
});
