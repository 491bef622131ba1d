import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LockerConfig } from 'nest-locker';
import { startEtcd, startRedis, TestServer } from '../harness/servers';
import { eventually, systemNow } from '../helpers/wait';
import type { LoopRun } from '../src/loop-app';

const LOOP_APP = join(__dirname, '..', 'src', 'loop-app.js');
/** The minHold of loop-app's @Cron job. */
const TICK_MIN_HOLD_MS = 500;

function readLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

const drivers = [
  {
    driver: 'redis',
    ttl: 2000,
    start: startRedis,
    config: (server: TestServer) => ({ redis: { addr: server.addr }, locker: { driver: 'redis', driver_instance_id: 'redis' } }),
  },
  {
    driver: 'etcd',
    ttl: 3000,
    start: startEtcd,
    config: (server: TestServer) => ({ etcd: { endpoints: [server.addr] }, locker: { driver: 'etcd', driver_instance_id: 'etcd' } }),
  },
] as const;

for (const { driver, ttl, start, config } of drivers) {
  describe(`a cluster of app processes on ${driver}`, () => {
    let server: TestServer;
    let dir: string;
    let lockerConfig: LockerConfig;
    const nodes: ChildProcess[] = [];
    const runsFile = () => join(dir, 'runs.jsonl');
    const ticksFile = () => join(dir, 'ticks.jsonl');
    const runs = () => readLines<LoopRun>(runsFile());

    async function startNode(): Promise<ChildProcess> {
      const child = spawn(
        process.execPath,
        [LOOP_APP, JSON.stringify({ config: lockerConfig, ttl, runsFile: runsFile(), ticksFile: ticksFile() })],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      nodes.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout?.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`node exited with ${code} before it was ready`)));
      });
      return child;
    }

    /** The first run that started after `since` on a node other than `excluded`. */
    async function nextRun(since: number, excluded: number[], withinMs: number): Promise<LoopRun> {
      const find = async () => runs().find((run) => run.start > since && !excluded.includes(run.pid));
      const run = await eventually(find, (found) => found !== undefined, withinMs);
      assert.ok(run, `no other node ran within ${withinMs} ms`);
      return run;
    }

    before(async () => {
      server = await start();
      dir = mkdtempSync(join(tmpdir(), `nest-locker-e2e-${driver}-`));
      lockerConfig = config(server);
    });
    after(async () => {
      for (const node of nodes) node.kill('SIGKILL');
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs the @LockedInterval job on one node at a time and hands it over on SIGKILL, SIGTERM and server restart', async () => {
      await Promise.all([startNode(), startNode(), startNode()]);
      await eventually(
        async () => runs().length,
        (count) => count >= 3,
        10_000,
      );
      const first = runs()[0].pid;
      assert.ok(
        runs().every((run) => run.pid === first),
        'while its holder lives, only one node runs the job',
      );

      // SIGKILL: the dead holder's lease runs out, then a waiting node takes over.
      const killedAt = systemNow();
      nodes.find((node) => node.pid === first)?.kill('SIGKILL');
      const second = await nextRun(killedAt, [first], ttl * 3);
      assert.ok(second.start - killedAt <= ttl + 1000, `took over ${Math.round(second.start - killedAt)} ms after SIGKILL (TTL ${ttl} ms)`);

      // SIGTERM: graceful shutdown releases the lock, so the next node need not wait for the TTL.
      const stoppedAt = systemNow();
      const secondNode = nodes.find((node) => node.pid === second.pid) as ChildProcess;
      const exited = new Promise<string>((resolve) => secondNode.once('exit', (code, signal) => resolve(String(signal ?? code))));
      secondNode.kill('SIGTERM');
      const third = await nextRun(stoppedAt, [first, second.pid], ttl * 3);
      assert.ok(
        third.start - stoppedAt < ttl / 2,
        `took over ${Math.round(third.start - stoppedAt)} ms after SIGTERM, as if the lock had expired`,
      );
      // Nest's shutdown hooks re-raise the signal once the app has closed
      assert.ok(['0', 'SIGTERM'].includes(await exited), 'the stopped node exited after a clean shutdown');

      const beforeRestart = runs();
      for (let i = 1; i < beforeRestart.length; i++) {
        assert.ok(
          beforeRestart[i].start >= beforeRestart[i - 1].end,
          `runs of ${beforeRestart[i - 1].pid} and ${beforeRestart[i].pid} overlap`,
        );
        assert.ok(BigInt(beforeRestart[i].token) >= BigInt(beforeRestart[i - 1].token), 'fencing tokens never go back');
      }

      // The server restarts (redis loses its data; etcd stays away past the TTL): the loop stops and resumes somewhere.
      await startNode();
      const lastToken = BigInt(beforeRestart[beforeRestart.length - 1].token);
      const restartedAt = systemNow();
      await server.restart(driver === 'etcd' ? ttl + 500 : 0);
      const resumed = await eventually(
        async () => runs().find((run) => run.start > restartedAt && BigInt(run.token) > lastToken),
        (run) => run !== undefined,
        ttl * 5,
      );
      assert.ok(resumed, 'the job resumed after the restart with a newer fencing token');
    });

    it('runs each @Cron tick of a @WithLock({ onBusy: "skip" }) job once in the cluster', async () => {
      // ticks from now: the test before restarted the server, which loses the lock a tick holds (and tells it)
      const since = systemNow();
      const read = async () => readLines<{ pid: number; at: number }>(ticksFile()).filter((tick) => tick.at >= since);
      // up to a lease of the lock a tick held at the restart (etcd keeps it), then one tick a second
      const ticks = await eventually(read, (found) => found.length >= 3, ttl * 2 + 5000);
      assert.ok(ticks.length >= 3, `only ${ticks.length} ticks ran`);
      // every node ticks at each second; the first to take the lock holds it minHold (500 ms), and the others
      // skip: runs that close together are one tick run twice. (A node whose tick fires more than minHold late,
      // on a busy machine, runs it again 500 ms or more on, as docs/decorators.md says.)
      const starts = ticks.map((tick) => tick.at).sort((a, b) => a - b);
      const twice = starts.slice(1).filter((at, index) => at - starts[index] < TICK_MIN_HOLD_MS - 50);
      assert.deepEqual(twice, [], `a tick ran on two nodes: ${JSON.stringify(ticks)}`);
    });
  });
}
