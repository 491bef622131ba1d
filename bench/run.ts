/**
 * `npm run bench`: starts a private redis-server and etcd, runs every scenario against every contender
 * in the same run, and writes bench/results/ (report.md, results.json, handoff charts).
 * Settings come from the environment: BENCH_SECONDS (per contender per timed scenario, default 3),
 * BENCH_ROUNDS (default 3), BENCH_MANY_KEYS (default "2000,10000"), BENCH_ONLY (scenario ids), BENCH_CONTENDERS
 * (parts of contender ids, e.g. "etcd"), BENCH_OUT.
 */
import 'reflect-metadata';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startEtcd, startRedis } from '../test/harness/servers';
import { CONTENDERS } from './contenders';
import { ScenarioRuns, scenarioTable } from './report/markdown';
import { renderLatencyCdf } from './report/svg-chart';
import { targetsTable } from './report/targets';
import { clusterReleaseMessages } from './scenarios/cluster-release-messages';
import { contentionApps, contentionInProcess, contentionProcesses } from './scenarios/contention';
import { crashRecovery } from './scenarios/crash-recovery';
import { manyKeys } from './scenarios/many-keys';
import { manyKeysThroughput } from './scenarios/many-keys-throughput';
import { contentionPermitApps, uncontendedPermit, uncontendedRead } from './scenarios/shared-kinds';
import { SHARED_CONTENDERS } from './contenders/shared-kinds';
import type { BenchContext, Scenario } from './scenarios/scenario';
import { ServerInspector } from './scenarios/server-inspector';
import { uncontended, uncontendedAsCalled } from './scenarios/uncontended';
import { uncontendedLayers } from './scenarios/uncontended-layers';
import { waitTimeout } from './scenarios/wait-timeout';
import { waiters } from './scenarios/waiters';

const ROOT = join(__dirname, '..', '..');
const SCENARIOS: Scenario[] = [
  uncontended,
  uncontendedAsCalled,
  uncontendedLayers,
  contentionInProcess,
  contentionApps,
  contentionProcesses,
  waitTimeout,
  crashRecovery,
  manyKeys,
  manyKeysThroughput,
  uncontendedPermit,
  uncontendedRead,
  contentionPermitApps,
  waiters,
  clusterReleaseMessages,
];
const RTT_SAMPLE_MS = 500;

interface Settings {
  seconds: number;
  rounds: number;
  manyKeys: number[];
  only?: string[];
  out: string;
}

function settings(): Settings {
  const env = process.env;
  return {
    seconds: Number(env.BENCH_SECONDS ?? 3),
    rounds: Number(env.BENCH_ROUNDS ?? 3),
    manyKeys: (env.BENCH_MANY_KEYS ?? '2000,10000').split(',').map(Number),
    only: env.BENCH_ONLY?.split(','),
    out: env.BENCH_OUT ?? join(ROOT, 'bench', 'results'),
  };
}

const packageVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

function header(run: Settings, servers: string, startedAt: Date, minutes: number): string {
  const libraries = ['ioredis', 'etcd3', 'redlock', 'redis-semaphore', '@nestjs/core'].map((name) => `${name} ${packageVersion(name)}`);
  return [
    '# nest-locker benchmark',
    '',
    `Run ${startedAt.toISOString()} by \`npm run bench\` in ${minutes.toFixed(1)} min, on ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}.`,
    `Servers (private, loopback, started by the run): ${servers}. Libraries: ${libraries.join(', ')}.`,
    `Settings: BENCH_SECONDS=${run.seconds} (per contender per timed scenario), BENCH_ROUNDS=${run.rounds}, BENCH_MANY_KEYS=${run.manyKeys.join(',')}.`,
    '',
    '**Contenders**',
    '',
    ...CONTENDERS.map((contender) => `- ${contender.id}: ${contender.describe}`),
    '',
    '**Contenders of 7 (permits and read locks)**',
    '',
    ...SHARED_CONTENDERS.map((contender) => `- ${contender.id}: ${contender.describe}`),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const run = settings();
  const startedAt = new Date();
  const scenarios = SCENARIOS.filter((scenario) => !run.only || run.only.includes(scenario.id));
  const [redis, etcd] = await Promise.all([startRedis(), startEtcd()]);
  const inspector = new ServerInspector({ redis: redis.addr, etcd: etcd.addr });
  try {
    const results: ScenarioRuns[] = scenarios.map((scenario) => ({ scenario, rounds: [] }));
    const failures: string[] = [];
    for (let round = 1; round <= run.rounds; round++) {
      const rtt = { redis: await inspector.roundTrip('redis', RTT_SAMPLE_MS), etcd: await inspector.roundTrip('etcd', RTT_SAMPLE_MS) };
      const context: BenchContext = {
        servers: { redis: redis.addr, etcd: etcd.addr },
        inspector,
        seconds: run.seconds,
        manyKeys: run.manyKeys,
        rtt,
      };
      for (const result of results) {
        if (result.scenario.rounds === 1 && round > 1) continue;
        console.log(
          `[bench] ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s, round ${round}/${run.rounds}: ${result.scenario.title}`,
        );
        try {
          result.rounds.push({ rows: await result.scenario.runRound(context), rtt });
        } catch (error) {
          // one scenario failing must not lose the others' figures: the report says what failed
          console.error(`[bench] ${result.scenario.id} failed in round ${round}:`, error);
          failures.push(`- ${result.scenario.id}, round ${round}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    const minutes = (Date.now() - startedAt.getTime()) / 60_000;
    const report = [
      header(run, await inspector.versions(), startedAt, minutes),
      '## Against the goals',
      '',
      targetsTable(results),
      '',
      ...(failures.length > 0 ? ['## Failed', '', ...failures, ''] : []),
      '## Scenarios',
      '',
      ...results.filter((result) => result.rounds.length > 0).map(scenarioTable),
      'Handoff waits: [8 workers in one process](handoff-8-workers.svg), [4 processes](handoff-4-processes.svg).',
      '',
    ].join('\n');
    mkdirSync(run.out, { recursive: true });
    writeFileSync(join(run.out, 'report.md'), report);
    // Metrics per round; the handoff samples themselves are drawn in the charts, not kept (megabytes).
    const metricsOnly = ({ scenario, rounds }: ScenarioRuns) => ({
      id: scenario.id,
      rounds: rounds.map(({ rows, rtt }) => ({ rtt, rows: rows.map(({ samples: _samples, ...row }) => row) })),
    });
    writeFileSync(join(run.out, 'results.json'), JSON.stringify({ startedAt, settings: run, results: results.map(metricsOnly) }));
    for (const [id, file, title] of [
      ['contention-8-workers', 'handoff-8-workers.svg', 'Handoff wait, 8 workers in one process'],
      ['contention-4-processes', 'handoff-4-processes.svg', 'Handoff wait, 4 processes'],
    ] as const) {
      const result = results.find((candidate) => candidate.scenario.id === id);
      if (!result) continue;
      const series = CONTENDERS.map((contender) => ({
        label: contender.id,
        samplesMs: result.rounds.flatMap(({ rows }) => rows.find((row) => row.row === contender.id)?.samples ?? []),
      }));
      writeFileSync(join(run.out, file), renderLatencyCdf(series, { title }));
    }
    console.log(report);
    console.log(`[bench] written to ${run.out}`);
  } finally {
    await inspector.close();
    await Promise.all([redis.stop(), etcd.stop()]);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
