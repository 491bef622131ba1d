/**
 * A separate OS process that uses nest-locker as an app would. Modes:
 * - hammer: `iterations` times, take the lock (of `kind`, default a mutex) and, with a counter file,
 *   increment it without any other protection, holding it `holdMs`; records each critical section and
 *   prints the sections as JSON. With `readyFile`, it first adds a line to it once its app is up, and starts
 *   when the file has `readyCount` lines: the workers then contend from the same moment, not one after another.
 * - hold: take the lock (`count` of them, default 1: permits of one key), print {"acquired": token} of the
 *   last, and keep them until killed; if the wait ends without it (`waitTime`), print {"error": code} and stay up.
 */
import 'reflect-metadata';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { Lock, LockerConfig, LockerModule, LockerService, LockKind } from 'nest-locker';
import { sleep, systemNow } from '../helpers/wait';

interface WorkerArgs {
  mode: 'hammer' | 'hold';
  config: LockerConfig;
  key: string;
  ttl?: number;
  fair?: boolean;
  waitTime?: number;
  iterations?: number;
  counterFile?: string;
  kind?: Exclude<LockKind, 'leader'>;
  limit?: number;
  holdMs?: number;
  count?: number;
  readyFile?: string;
  readyCount?: number;
}

export interface CriticalSection {
  worker: number;
  kind: LockKind;
  start: number;
  end: number;
  token: string;
  /** `lock.held` at the end: false when the holder was paused past its lease (and so was told it lost it). */
  held: boolean;
}

/** Runs `body` under the lock of `kind`, as an app calls it. */
function withKind<T>(locker: LockerService, args: WorkerArgs, body: (lock: Lock) => Promise<T>): Promise<T> {
  const options = { ttl: args.ttl, fair: args.fair, waitTime: args.waitTime };
  if (args.kind === 'permit') return locker.withPermit(args.key, body, { ...options, limit: args.limit as number });
  if (args.kind === 'read') return locker.withReadLock(args.key, body, options);
  if (args.kind === 'write') return locker.withWriteLock(args.key, body, options);
  return locker.withLock(args.key, body, options);
}

/** Takes the lock of `kind`, as an app calls it. */
function acquireKind(locker: LockerService, args: WorkerArgs): Promise<Lock> {
  const options = { ttl: args.ttl, fair: args.fair, waitTime: args.waitTime };
  if (args.kind === 'permit') return locker.acquirePermit(args.key, { ...options, limit: args.limit as number });
  if (args.kind === 'read') return locker.acquireRead(args.key, options);
  if (args.kind === 'write') return locker.acquireWrite(args.key, options);
  return locker.acquire(args.key, options);
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as WorkerArgs;
  const app = await NestFactory.createApplicationContext(LockerModule.forRoot(args.config), { logger: ['error'] });
  const locker = app.get(LockerService);
  if (args.mode === 'hold') {
    try {
      let lock = await acquireKind(locker, args);
      for (let taken = 1; taken < (args.count ?? 1); taken++) lock = await acquireKind(locker, args);
      process.stdout.write(`${JSON.stringify({ acquired: lock.fencingToken.toString() })}\n`);
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ error: (error as { code?: string }).code ?? String(error) })}\n`);
    }
    await new Promise(() => undefined);
  }
  if (args.readyFile) await allReady(args.readyFile, args.readyCount ?? 1);
  const sections: CriticalSection[] = [];
  for (let i = 0; i < (args.iterations ?? 1); i++) {
    await withKind(locker, { ...args, waitTime: undefined }, async (lock) => {
      const start = systemNow();
      if (args.counterFile) {
        const value = Number(readFileSync(args.counterFile, 'utf8'));
        await sleep(args.holdMs ?? 1); // widen the window in which a second holder would lose an update
        writeFileSync(args.counterFile, String(value + 1));
      } else await sleep(args.holdMs ?? 1);
      sections.push({
        worker: process.pid,
        kind: lock.kind,
        start,
        end: systemNow(),
        token: lock.fencingToken.toString(),
        held: lock.held,
      });
    });
  }
  process.stdout.write(`${JSON.stringify(sections)}\n`);
  await app.close();
}

/** Says this worker is up, then waits until `count` workers have. */
async function allReady(file: string, count: number): Promise<void> {
  appendFileSync(file, `${process.pid}\n`);
  while (readFileSync(file, 'utf8').trim().split('\n').length < count) await sleep(10);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
