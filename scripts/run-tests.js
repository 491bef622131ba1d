// Runs every compiled spec (unit specs beside the code in lib/, integration and e2e in test/) with
// node's own test runner. Each file starts the servers it needs on free loopback ports.
// `node scripts/run-tests.js [substring-of-spec-path]`; TEST_CONCURRENCY sets how many files run at once.
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { cpus } = require('node:os');

/**
 * The runner's only timeout, per spec file: a backstop for a file that hangs, so a run still ends (CI stops
 * at 90 min). Each spec bounds its own waits (a child's `timeout`, a test's `{ timeout }`) well below it, so
 * the runner never cancels what a spec itself allows; test/run-tests.spec.ts checks every such bound.
 */
const FILE_TIMEOUT_MS = 15 * 60_000;

/**
 * Files run this many at a time. The suite mostly waits (leases running out, servers starting, child
 * processes): two files at a time kept a third of two cores busy, so an idle machine takes four. A machine
 * that other processes already keep busy takes two, as before: timing-sensitive specs (renewals every ttl / 3,
 * the fault matrix) then get a core's share often enough.
 */
const IDLE_CONCURRENCY = 4;
const BUSY_CONCURRENCY = 2;

/** How many CPUs' worth other processes keep busy, sampled over `ms`. */
async function busyCpus(ms) {
  const total = () =>
    cpus().reduce((sum, { times }) => ({ idle: sum.idle + times.idle, all: sum.all + Object.values(times).reduce((a, b) => a + b, 0) }), {
      idle: 0,
      all: 0,
    });
  const before = total();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = total();
  const busyShare = 1 - (after.idle - before.idle) / Math.max(1, after.all - before.all);
  return busyShare * cpus().length;
}

/**
 * Started first, longest first, so that no long file starts last and runs alone at the end (each one
 * takes 0.5 to 1.5 min; the other ~70 files take seconds). Parts of paths, in order.
 */
const SLOW_FIRST = [
  'test/bench.spec',
  'test/faults/redis-cluster-faults',
  'test/faults/etcd-faults',
  'test/faults/etcd-cluster-faults',
  'test/etcd-cluster.conformance',
  'test/faults/redis-faults',
  'test/etcd-auth.conformance',
  'test/etcd.conformance',
  'test/redis-acl.conformance',
  'test/operations-clusters',
  'test/faults/operator-faults',
  'test/etcd-cluster.spec',
  'test/shutdown',
];

function compiledSpecs() {
  const specs = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.spec.js')) specs.push(path);
    }
  };
  ['dist/lib', 'dist/test'].forEach(walk);
  const rank = (path) => {
    const at = SLOW_FIRST.findIndex((part) => path.replace(/\\/g, '/').includes(part.replace(/^test\//, 'dist/test/')));
    return at === -1 ? SLOW_FIRST.length : at;
  };
  return specs.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

async function concurrency() {
  if (process.env.TEST_CONCURRENCY) return Number(process.env.TEST_CONCURRENCY);
  const busy = await busyCpus(1000);
  const chosen = busy >= 1 ? BUSY_CONCURRENCY : IDLE_CONCURRENCY;
  console.error(`[test] ${chosen} spec files at a time: other processes kept ${busy.toFixed(1)} of ${cpus().length} CPUs busy`);
  return chosen;
}

async function main() {
  const only = process.argv[2];
  const selected = compiledSpecs().filter((path) => !only || path.includes(only));
  const result = spawnSync(
    process.execPath,
    [
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      // after the run, on stderr: the files that took longest (where to look when the suite gets slow)
      `--test-reporter=${join(__dirname, 'spec-times-reporter.mjs')}`,
      '--test-reporter-destination=stderr',
      `--test-timeout=${FILE_TIMEOUT_MS}`,
      `--test-concurrency=${await concurrency()}`,
      ...selected,
    ],
    { stdio: 'inherit' },
  );
  process.exit(result.status ?? 1);
}

if (require.main === module) void main();
module.exports = { FILE_TIMEOUT_MS };
