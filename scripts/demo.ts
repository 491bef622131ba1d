// The README's main command (`npm run demo`): three instances of the sample app share a private redis and
// etcd; they elect a feed owner, which the others name, and which another instance succeeds when it is
// SIGKILLed (at its lease end) or SIGTERMed (at once: it resigns); one report job runs in the cluster and
// moves when its node goes; one order is paid three times at once and charged once; a cron job runs once per tick. Without redis/etcd, it runs one
// instance on the memory driver. Every step is bounded; every process it starts is stopped.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'smol-toml';
import { freePort } from '../test/harness/free-port';
import { startEtcd, startRedis, TestServer } from '../test/harness/servers';
import { AppInstance } from './demo/app-instance';
import { reportOf, summarize } from './demo/cluster-summary';
import { DemoFailure, LogBus, LogLine, seconds } from './demo/log-bus';

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'sample-app', 'src', 'main.js');
const BIN = join(ROOT, 'dist', 'lib', 'cli', 'nest-locker.js');
const STEP_MS = 20_000;
/** The sample app's lines: FeedOwnerService when it leads, FeedWatcher when observe() yields. */
const FEED_OWNER = /(\S+) owns the feed \(term (\d+)\)/;
const SEES = /sees the feed owner: (\S+)/;
const ORDER = '42';

const bus = new LogBus();
const work = mkdtempSync(join(tmpdir(), 'nest-locker-demo-'));
const ledgerDir = join(work, 'ledger');
const instances: AppInstance[] = [];
const servers: TestServer[] = [];
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

const say = (text: string): void => console.log(`\n==> ${text}`);

async function main(): Promise<void> {
  const backends = await startBackends();
  if (backends) await clusterDemo(backends.redis, backends.etcd);
  else await memoryDemo();
}

/** redis-server and etcd on free loopback ports, or undefined (with the reason said) when they cannot run. */
async function startBackends(): Promise<{ redis: TestServer; etcd: TestServer } | undefined> {
  const missing = [
    ['redis-server', process.env.REDIS_SERVER_BIN ?? 'redis-server'],
    ['etcd', process.env.ETCD_BIN ?? 'etcd'],
  ].filter(([, bin]) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).error !== undefined);
  if (missing.length > 0) {
    say(`${missing.map(([name]) => name).join(' and ')}: not available here (scripts/ensure-deps.sh could not install it)`);
    return undefined;
  }
  say('starting a private redis-server and etcd on free loopback ports');
  try {
    const redis = await startRedis();
    servers.push(redis);
    const etcd = await startEtcd();
    servers.push(etcd);
    console.log(`    redis ${redis.addr}, etcd ${etcd.addr}`);
    return { redis, etcd };
  } catch (error) {
    say(`could not start redis/etcd: ${(error as Error).message}`);
    return undefined;
  }
}

async function clusterDemo(redis: TestServer, etcd: TestServer): Promise<void> {
  const config = writeConfig((toml) => {
    toml.redis = { ...toml.redis, addr: redis.addr };
    toml.etcd = { ...toml.etcd, endpoints: [etcd.addr] };
  });
  await startInstances(['node-a', 'node-b', 'node-c'], config);

  say('waiting for the instances to elect a feed owner (@OnLeadership, [locker] on redis)');
  const owner1 = instanceNamed(feedOwnerOf(await step('a feed owner', (line) => feedOwnerOf(line) !== undefined)) as string);
  console.log(`    ${owner1.name} owns the feed`);
  await followersName(owner1, 0);
  await showFeedOwner(instances.find((instance) => instance !== owner1) as AppInstance);

  say('waiting for the report job ([jobs_locker], etcd) to run on one of them');
  const first = await step('a first report', (line) => reportOf(line) !== undefined);
  const runner1 = instanceNamed(reportOf(first)!.by);
  console.log(`    the report job runs on ${runner1.name}`);
  showLocks(config, runner1);
  showLocks(config, owner1, 'feed-owner');
  await showHealth(runner1);

  await payRace(instances);
  await exportRace(instances);

  say(`SIGKILL ${owner1.name}, the feed owner: its leadership stays until its 3 s lease runs out`);
  const killedAt = performance.now();
  owner1.kill();
  const owned2 = await step('a new feed owner', (line) => byOtherOwner(line, [owner1.name]), killedAt);
  const owner2 = instanceNamed(feedOwnerOf(owned2) as string);
  const afterKill = owned2.at - killedAt;
  console.log(`    ${owner2.name} took over the feed ${seconds(afterKill)} after the kill`);
  await followersName(owner2, killedAt);
  const runner2 = await reportRunner(killedAt, [owner1.name], runner1);

  say(`SIGTERM ${owner2.name}: graceful shutdown resigns, so the last instance owns the feed at once`);
  const terminatedAt = performance.now();
  owner2.terminate();
  const owned3 = await step('the third feed owner', (line) => byOtherOwner(line, [owner1.name, owner2.name]), terminatedAt);
  const owner3 = instanceNamed(feedOwnerOf(owned3) as string);
  const afterTerm = owned3.at - terminatedAt;
  console.log(`    ${owner3.name} took over the feed ${seconds(afterTerm)} after SIGTERM`);
  const exitedAt = await owner2.waitForExit(15_000);
  console.log(`    ${owner2.name} exited ${seconds(exitedAt - terminatedAt)} after SIGTERM`);
  const runner3 = await reportRunner(terminatedAt, [owner1.name, owner2.name], runner2);

  say('letting the survivor run one more cleanup tick');
  await step('one more cleanup tick', (line) => line.text.includes('cleanup tick'), performance.now());
  await stopInstances();

  const summary = summarize(
    bus.lines,
    instances.map((instance) => instance.name),
  );
  say('summary');
  console.log(`    feed owned by: ${owner1.name} → ${owner2.name} → ${owner3.name}`);
  console.log(`    feed takeover after SIGKILL: ${seconds(afterKill)} (expected: the 3 s lease + a round trip)`);
  console.log(`    feed takeover after SIGTERM: ${seconds(afterTerm)} (expected: about a round trip; it resigned at shutdown)`);
  const runners = [runner1, runner2, runner3].map((runner) => runner.name).filter((name, index, all) => name !== all[index - 1]);
  console.log(`    report job ran on: ${runners.join(' → ')}`);
  printCommonSummary(summary);
}

/** The instance a "<name> owns the feed (term N)" line names. */
function feedOwnerOf(line: LogLine): string | undefined {
  return FEED_OWNER.exec(line.text)?.[1];
}

function byOtherOwner(line: LogLine, names: string[]): boolean {
  const owner = feedOwnerOf(line);
  return owner !== undefined && !names.includes(owner);
}

/** Waits until every other live instance's FeedWatcher names `owner` (observe(), told by the server). */
async function followersName(owner: AppInstance, since: number): Promise<void> {
  const followers = instances.filter((instance) => instance !== owner && instance.running);
  for (const follower of followers) {
    await step(
      `${follower.name} naming ${owner.name}`,
      (line) => line.instance === follower.name && SEES.exec(line.text)?.[1] === owner.name,
      since,
    );
  }
  const names = followers.map((follower) => follower.name).join(' and ');
  console.log(`    ${names} ${followers.length === 1 ? 'names' : 'name'} ${owner.name} as the feed owner (FeedWatcher, observe())`);
}

/** GET /feed/owner at a follower: it reads the leader from the server. */
async function showFeedOwner(follower: AppInstance): Promise<void> {
  say(`GET ${follower.url}/feed/owner   (at ${follower.name}, a follower)`);
  const response = await race(fetch(`${follower.url}/feed/owner`, { signal: AbortSignal.timeout(STEP_MS) }));
  console.log(`    ${response.status} ${await response.text()}`);
  if (response.status !== 200) throw new DemoFailure(`/feed/owner answered ${response.status}`);
}

/** Where the report job runs once `gone` are gone: the next report by a live instance since `since`. */
async function reportRunner(since: number, gone: string[], before: AppInstance): Promise<AppInstance> {
  const report = await step('a report by a live instance', (line) => byOtherThan(line, gone), since);
  const runner = instanceNamed(reportOf(report)!.by);
  console.log(
    runner === before
      ? `    the report job stays on ${runner.name}`
      : `    the report job moved to ${runner.name}: first report ${seconds(report.at - since)} after${lockTakenNote(runner, since, report)}`,
  );
  return runner;
}

/**
 * What an operator sees: `nest-locker locks` on [jobs_locker] (the report job's lock), or with `prefix` on
 * [locker] (the feed owner's leadership, with the value it proclaimed).
 */
function showLocks(config: string, runner: AppInstance, prefix?: string): void {
  const args = prefix ? ['--prefix', prefix] : ['--locker', 'jobs_locker'];
  say(`nest-locker locks --config app.toml ${args.join(' ')}   (${runner.name} is pid ${runner.pid})`);
  const listed = spawnSync(process.execPath, [BIN, 'locks', '--config', config, ...args], {
    encoding: 'utf8',
    timeout: STEP_MS,
  });
  if (listed.status !== 0) throw new DemoFailure(`nest-locker locks failed (${listed.status}): ${listed.stderr}`);
  console.log(listed.stdout.replace(/^/gm, '    ').trimEnd());
  const expected = prefix ?? 'report-builder';
  if (!listed.stdout.includes(expected)) throw new DemoFailure(`nest-locker locks does not list the ${expected} lock`);
}

/** GET /health of one instance (terminus, through LockerHealthIndicator). */
async function showHealth(target: AppInstance): Promise<void> {
  say(`GET ${target.url}/health`);
  const response = await race(fetch(`${target.url}/health`, { signal: AbortSignal.timeout(STEP_MS) }));
  console.log(`    ${response.status} ${await response.text()}`);
  if (response.status !== 200) throw new DemoFailure(`/health answered ${response.status}`);
}

/** Memory locks do not cross processes: one instance shows the API; the cluster needs redis and etcd. */
async function memoryDemo(): Promise<void> {
  say('running ONE instance on the memory driver instead (memory locks do not cross processes)');
  const config = writeConfig((toml) => {
    for (const section of ['locker', 'jobs_locker']) toml[section] = { driver: 'memory', driver_instance_id: 'memory' };
  });
  await startInstances(['node-a'], config);
  const owned = await step('a feed owner', (line) => feedOwnerOf(line) !== undefined);
  console.log(`    ${feedOwnerOf(owned)} owns the feed (the only candidate)`);
  const first = await step('a first report', (line) => reportOf(line) !== undefined);
  console.log(`    the report job runs on ${reportOf(first)!.by}`);
  await payRace([instances[0], instances[0], instances[0]]);
  say('letting the cleanup job tick twice');
  const tick = await step('a cleanup tick', (line) => line.text.includes('cleanup tick'), performance.now());
  await step('a second cleanup tick', (line) => line.text.includes('cleanup tick'), tick.at + 1);
  await stopInstances();
  say('summary (memory driver, one instance; install redis-server and etcd for the cluster demo)');
  printCommonSummary(summarize(bus.lines, ['node-a']));
}

async function startInstances(names: string[], config: string): Promise<void> {
  say(`starting ${names.join(', ')} (node dist/sample-app/src/main.js), LEDGER_DIR=${ledgerDir}`);
  for (const name of names) {
    const instance = new AppInstance(name, await freePort(), MAIN, { LOCKER_CONFIG: config, LEDGER_DIR: ledgerDir }, bus);
    instances.push(instance);
    instance.start();
  }
  const since = performance.now();
  await Promise.all(
    names.map((name) => step(`${name} listening`, (line) => line.instance === name && line.text.includes('listening on'), since)),
  );
}

/** Two report exports asked of every target at once: at most two run across the cluster (a permit of limit 2). */
async function exportRace(targets: AppInstance[]): Promise<void> {
  const asked = targets.flatMap((target) => [target, target]);
  say(`POST /reports/daily/export twice at each of ${targets.map((target) => target.name).join(', ')} at once (at most 2 at a time)`);
  const responses = await race(
    Promise.all(
      asked.map(async (target) => {
        const response = await fetch(`${target.url}/reports/daily/export`, { method: 'POST', signal: AbortSignal.timeout(STEP_MS) });
        return { target, status: response.status, body: await response.text() };
      }),
    ),
  );
  for (const { target, status, body } of responses) {
    console.log(`    ${target.name} → ${status} ${status === 409 ? (JSON.parse(body) as { code: string }).code : body}`);
  }
  const exported = responses.filter((response) => response.status === 200).length;
  const busy = responses.filter((response) => response.status === 409).length;
  console.log(`    exported ${exported}, turned away ${busy} (409: two exports were running)`);
  if (exported !== 2 || busy !== asked.length - 2) throw new DemoFailure(`expected 2 exports and ${asked.length - 2} refusals`);
}

/** The same POST at every target at once: exactly one may charge. */
async function payRace(targets: AppInstance[]): Promise<void> {
  say(`POST /orders/${ORDER}/pay at ${targets.map((target) => target.name).join(', ')} at the same moment`);
  const responses = await race(
    Promise.all(
      targets.map(async (target) => {
        const response = await fetch(`${target.url}/orders/${ORDER}/pay`, { method: 'POST', signal: AbortSignal.timeout(STEP_MS) });
        return `${response.status} ${await response.text()}`;
      }),
    ),
  );
  targets.forEach((target, index) => console.log(`    ${target.name} → ${responses[index]}`));
  const charged = responses.filter((response) => response.includes('"status":"charged"')).length;
  if (charged !== 1) throw new DemoFailure(`expected exactly one "charged" response, got ${charged}`);
}

function printCommonSummary(summary: ReturnType<typeof summarize>): void {
  const ledger = join(ledgerDir, `order-${ORDER}.jsonl`);
  const charges = readFileSync(ledger, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"event":"charged"')).length;
  const counts = (map: Map<string, number>): string => [...map].map(([name, count]) => `${name} ${count}`).join(', ');
  console.log(`    reports built: ${counts(summary.reports)}; fencing tokens ${summary.tokensIncrease ? 'never went back' : 'WENT BACK'}`);
  console.log(`    charges of order ${ORDER} in the ledger: ${charges}`);
  console.log(`    cleanup ticks: ${summary.ticks} ticks, ran on ${counts(summary.cleanups)}`);
  if (summary.skipped > 0) {
    console.log(`    cleanup ticks no instance ran: ${summary.skipped} (a killed holder keeps the lock until its 5 s lease runs out)`);
  }
  console.log(`    cleanup ticks that ran twice: ${summary.twice.length === 0 ? 'none' : summary.twice.join('; ')}`);
  const losses = [...summary.losses].filter(([, count]) => count > 0);
  console.log(
    losses.length === 0
      ? '    lock losses logged: none'
      : `    lock losses logged: ${counts(summary.losses)} — UNEXPECTED, no holder was paused or cut off (see the log above)`,
  );
  if (charges !== 1) throw new DemoFailure(`expected 1 charge in the ledger, found ${charges}`);
  if (summary.twice.length > 0) throw new DemoFailure('a cleanup tick ran on more than one instance');
}

/** A copy of sample-app/app.toml, changed by `edit`, in the demo's temporary directory; its path. */
function writeConfig(edit: (toml: Record<string, Record<string, unknown>>) => void): string {
  const toml = parse(readFileSync(join(ROOT, 'sample-app', 'app.toml'), 'utf8')) as Record<string, Record<string, unknown>>;
  edit(toml);
  const path = join(work, 'app.toml');
  writeFileSync(path, stringify(toml));
  return path;
}

function instanceNamed(name: string): AppInstance {
  const instance = instances.find((candidate) => candidate.name === name);
  if (!instance) throw new DemoFailure(`a report names an unknown instance "${name}"`);
  return instance;
}

function byOtherThan(line: LogLine, names: string[]): boolean {
  const report = reportOf(line);
  return report !== undefined && !names.includes(report.by);
}

/**
 * When the loop took the lock on `instance` for the run that produced `report`: the library's last
 * "holds lock" line there before the report (the line is the library's, not the app's).
 */
function lockTakenNote(instance: AppInstance, since: number, report: LogLine): string {
  const taken = bus.lines.filter(
    (line) =>
      line.at >= since && line.at <= report.at && line.instance === instance.name && line.text.includes('holds lock "report-builder"'),
  );
  return taken.length > 0 ? ` (lock taken ${seconds(taken[taken.length - 1].at - since)} after it)` : '';
}

/** Waits for a log line, failing the demo if an instance dies unasked or `STEP_MS` passes. */
function step(what: string, test: (line: LogLine) => boolean, since = 0): Promise<LogLine> {
  return race(bus.waitFor(what, test, since, STEP_MS));
}

function race<T>(work: Promise<T>): Promise<T> {
  return Promise.race([work, ...instances.map((instance) => instance.crashed)]);
}

async function stopInstances(): Promise<void> {
  await Promise.all(instances.map((instance) => instance.stop()));
}

async function stopEverything(): Promise<void> {
  await Promise.allSettled(instances.map((instance) => instance.stop()));
  await Promise.allSettled(servers.map((server) => server.stop()));
}

main()
  .then(async () => {
    await stopEverything();
    say('done: every instance and server stopped');
  })
  .catch(async (error: unknown) => {
    const message = error instanceof DemoFailure ? error.message : (error as Error).stack;
    console.error(`\n[demo] FAILED: ${message}`);
    await stopEverything();
    process.exitCode = 1;
  });
