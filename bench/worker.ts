/**
 * A benchmark node in its own OS process. It prints JSON lines and takes commands as lines on stdin.
 * Modes:
 * - contend: prints {ready}, waits for "go", contends for `durationMs`, prints {acquisitions}.
 * - hold: takes `key` with a fixed lease of `ttl`, prints {acquiredAt}, holds until killed.
 * - many: takes `count` keys with keep-alive, prints {held, acquireMs, heapPerLock}, waits for "release".
 * - waiters: takes `key`, starts `count` waiters on it, prints {waiting}; on "go" releases, and each waiter
 *   releases at once; prints {handoffs} as they complete, until killed.
 */
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { contenderById } from './contenders';
import type { BenchServers } from './contenders/contender';
import { contend } from './scenarios/contention-loop';
import { now } from './report/stats';

export interface WorkerArgs {
  mode: 'contend' | 'hold' | 'many' | 'waiters';
  contender: string;
  servers: BenchServers;
  key: string;
  durationMs?: number;
  ttl?: number;
  count?: number;
}

const emit = (message: object): void => void process.stdout.write(`${JSON.stringify(message)}\n`);
const commands = createInterface({ input: process.stdin });
const nextCommand = (): Promise<string> => new Promise((resolve) => commands.once('line', resolve));

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as WorkerArgs;
  const client = await contenderById(args.contender).connect(args.servers);
  const ttl = args.ttl ?? 10_000;
  if (args.mode === 'contend') {
    emit({ ready: true });
    await nextCommand();
    emit({ acquisitions: await contend(client, args.key, String(process.pid), now() + (args.durationMs ?? 1000)) });
  } else if (args.mode === 'hold') {
    await client.acquire(args.key, { ttl, keepAlive: false });
    emit({ acquiredAt: now() });
    await new Promise(() => undefined);
  } else if (args.mode === 'many') {
    const count = args.count ?? 1000;
    const before = heapUsed();
    const started = now();
    const held = [];
    for (let i = 0; i < count; i += 500) {
      held.push(
        ...(await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, j) => client.acquire(`${args.key}-${i + j}`, { ttl })))),
      );
    }
    const acquireMs = now() - started;
    emit({ held: held.length, acquireMs, heapPerLock: (heapUsed() - before) / count });
    await nextCommand();
    await Promise.all(held.map((lock) => lock.release()));
  } else {
    const holder = await client.acquire(args.key, { ttl });
    let handoffs = 0;
    for (let i = 0; i < (args.count ?? 1000); i++) {
      void client.acquire(args.key, { ttl }).then(async (lock) => {
        await lock.release();
        emit({ handoffs: ++handoffs, at: now() });
      });
    }
    emit({ waiting: true });
    await nextCommand();
    emit({ releasedAt: now() });
    await holder.release();
    await new Promise(() => undefined);
  }
  await client.close();
  await new Promise((resolve) => process.stdout.write('', resolve)); // a pipe is written asynchronously
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
