import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

interface Results {
  results: { id: string; rounds: { rows: { row: string; metrics: Record<string, number> }[] }[] }[];
}

/** A miniature `npm run bench` of the scenarios `only`, in a child with its own servers; its report and results. */
async function runBench(only: string[]): Promise<{ report: string; results: Results; out: string }> {
  const out = mkdtempSync(join(tmpdir(), 'nest-locker-bench-'));
  try {
    const child = spawn(process.execPath, ['--expose-gc', join(__dirname, '..', 'bench', 'run.js')], {
      env: { ...process.env, BENCH_SECONDS: '0.3', BENCH_ROUNDS: '1', BENCH_MANY_KEYS: '50', BENCH_ONLY: only.join(','), BENCH_OUT: out },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 240_000,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code, signal] = (await new Promise((done) => child.once('exit', (...exit) => done(exit)))) as [number | null, string | null];
    assert.equal(code, 0, `bench exited with ${code ?? signal}: ${stderr}`);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    return { report: readFileSync(join(out, 'report.md'), 'utf8'), results, out };
  } catch (error) {
    rmSync(out, { recursive: true, force: true });
    throw error;
  }
}

/**
 * `npm run bench` in miniature, so it cannot rot unnoticed: it must run every contender and write its
 * report. It asserts what the run saw (rows, no overlapping holders), never how fast anything was. The
 * scenarios run in two children at once (each its own servers): the many-keys pair mostly waits on renewals.
 */
describe('npm run bench, shortened', { concurrency: true }, () => {
  it('runs every contender, writes report.md, results.json and the charts, and sees no two holders at once', async () => {
    const { report, results, out } = await runBench([
      'uncontended',
      'uncontended-as-called',
      'uncontended-layers',
      'contention-8-apps',
      'contention-4-processes',
      'uncontended-permit',
      'contention-permit-8-apps',
    ]);
    try {
      for (const title of [
        '1. Uncontended',
        '1b. Uncontended',
        "1c. Where an uncontended redis cycle's time goes",
        '2b. Contention: 4 OS processes',
        '2c. Hot key',
        '7a. Uncontended permit',
        '7c. Hot permits',
        'Against the goals',
      ])
        assert.match(report, new RegExp(title));
      assert.match(readFileSync(join(out, 'handoff-4-processes.svg'), 'utf8'), /^<svg/);
      const layers = results.results.find((result) => result.id === 'uncontended-layers')!.rounds[0].rows;
      assert.equal(layers.length, 5, 'every layer was timed');
      for (const row of layers) assert.ok(row.metrics.cyclesPerSec > 0, `${row.row} completed cycles`);
      for (const row of results.results.find((result) => result.id === 'contention-permit-8-apps')!.rounds[0].rows) {
        assert.ok(row.metrics.acquisitionsPerSec > 0, `${row.row} took permits`);
        assert.ok(row.metrics.mostHolders <= 2, `${row.row}: more holders than the limit at once`);
      }
      for (const id of ['contention-4-processes', 'contention-8-apps']) {
        const contention = results.results.find((result) => result.id === id)!.rounds[0].rows;
        assert.equal(contention.length, 8, `every contender ran (${id})`);
        for (const row of contention) {
          assert.ok(row.metrics.acquisitionsPerSec > 0, `${row.row} acquired the lock (${id})`);
          assert.equal(row.metrics.violations, 0, `${row.row}: two holders at once (${id})`);
        }
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('runs the many-keys and permit scenarios for every contender and reports them, never more permit holders than the limit', async () => {
    const { report, results, out } = await runBench([
      'many-keys',
      'many-keys-throughput',
      'uncontended-permit',
      'contention-permit-8-apps',
    ]);
    try {
      const failed = /## Failed\n[\s\S]*?(?=\n## )/.exec(report)?.[0];
      assert.equal(failed, undefined, failed);
      for (const title of ['5. Many keys', '5b. A lock per order', '7a. Uncontended permit', '7c. Hot permits', 'Against the goals'])
        assert.match(report, new RegExp(title));
      for (const row of results.results.find((result) => result.id === 'contention-permit-8-apps')!.rounds[0].rows) {
        assert.ok(row.metrics.acquisitionsPerSec > 0, `${row.row} took permits`);
        assert.ok(row.metrics.mostHolders <= 2, `${row.row}: more holders than the limit at once`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
