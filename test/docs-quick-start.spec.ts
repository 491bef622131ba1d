import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { redisCommand } from './harness/redis-command';
import { startRedis, type TestServer } from './harness/servers';
import { markdownCodeBlocks } from './docs/markdown-code-blocks';
import { eventually } from './helpers/wait';

// Compiled to dist/test/: the repository is two levels up.
const REPO = join(__dirname, '..', '..');
const APP = join(REPO, '.tmp', 'docs-quick-start');

/** The README's quick start, as a reader would build it: its own tsconfig, `nest-locker` as an installed package. */
function buildQuickStart(): void {
  const [quickStart] = markdownCodeBlocks(join(REPO, 'README.md')).filter((block) => block.lang === 'ts');
  assert.match(quickStart.text, /LockerModule\.forRoot/, 'the first ts block of README.md is not the quick start');
  rmSync(APP, { recursive: true, force: true });
  mkdirSync(join(APP, 'src'), { recursive: true });
  mkdirSync(join(APP, 'node_modules'));
  // The package is the repo itself (built to dist/lib by the test build), as `npm install` of it would give.
  symlinkSync(REPO, join(APP, 'node_modules', 'nest-locker'), 'dir');
  writeFileSync(join(APP, 'src', 'main.ts'), quickStart.text);
  const compilerOptions = {
    target: 'ES2022',
    module: 'node20',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: true,
    rootDir: 'src',
    outDir: 'dist',
    types: ['node'],
  };
  writeFileSync(join(APP, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
  const tsc = spawnSync(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', APP, '--pretty', 'false'], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, `the quick start does not compile:\n${tsc.stdout}${tsc.stderr}`);
}

/** One instance of the quick start, with what it printed so far. */
function startInstance(redis: TestServer): { process: ChildProcess; output: () => string; exited: Promise<unknown> } {
  const child = spawn(process.execPath, [join(APP, 'dist', 'main.js')], {
    cwd: APP,
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

describe("README's quick start", () => {
  let redis: TestServer;
  const instances: ChildProcess[] = [];

  before(async () => {
    buildQuickStart();
    redis = await startRedis();
  });

  after(async () => {
    for (const child of instances) if (child.exitCode === null) child.kill('SIGKILL');
    await redis?.stop();
  });

  it('runs: one instance reports, the other takes over at SIGTERM, and no lock is left behind', async () => {
    const first = startInstance(redis);
    instances.push(first.process);
    const firstReport = `report by pid ${first.process.pid}`;
    // the charge and the loop's first run each take a lock: either may print first
    assert.match(await printed(first, 'charged invoice 42'), /charged invoice 42/, first.output());
    assert.match(await printed(first, firstReport), new RegExp(firstReport), first.output());

    const second = startInstance(redis);
    instances.push(second.process);
    assert.match(await printed(second, 'charged invoice 42'), /charged invoice 42/, second.output());

    // Nest's shutdown hook closes the app, then raises the signal again: the exit is by SIGTERM either way.
    first.process.kill('SIGTERM');
    await first.exited;
    const secondReport = `report by pid ${second.process.pid}`;
    assert.match(await printed(second, secondReport), new RegExp(secondReport), second.output());

    second.process.kill('SIGTERM');
    await second.exited;
    assert.equal(await redisCommand(redis.port, 'EXISTS', 'nest-locker:{Billing.report}'), 0, 'the loop lock was left on the server');
  });
});
