/**
 * A separate OS process in an election, as an app would take part. It prints one JSON line per event, each
 * with `at` (wall-clock ms, comparable across processes on one machine). Modes:
 * - candidate: `terms` times, campaign, print {elected}, lead `holdMs` (checking `held`), print {resigning}
 *   while still leading, resign; then exit.
 * - leader: campaign, print {elected}; while leading, every `actMs` check `held`, do the work, then print
 *   {write} with the term (a fenced resource judges it); print {lost} when the leadership's signal aborts.
 *   Stays up until killed; SIGTERM shuts down gracefully (it resigns).
 * - observer: print {observed} for every leader observe() yields; SIGTERM ends it (the observer ends at
 *   shutdown: {ended}).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { LockerConfig, LockerModule, LockerService, LockLostError } from 'nest-locker';
import { sleep, systemNow } from '../helpers/wait';

export interface ElectionWorkerArgs {
  mode: 'candidate' | 'leader' | 'observer';
  config: LockerConfig;
  name: string;
  ttl?: number;
  value?: string;
  terms?: number;
  holdMs?: number;
  actMs?: number;
}

/** One line a worker prints. */
export type ElectionLine =
  | { event: 'ready'; at: number }
  | { event: 'elected'; term: string; at: number }
  | { event: 'resigning'; term: string; at: number }
  | { event: 'write'; term: string; at: number }
  | { event: 'lost'; term: string; reason: string; at: number }
  | { event: 'observed'; term: string | null; value?: string; id?: string; at: number }
  | { event: 'ended'; at: number };

/** A line as printed: what happened, and when. */
type Unstamped = ElectionLine extends infer L ? (L extends ElectionLine ? Omit<L, 'at'> : never) : never;

const print = (line: Unstamped): void => {
  process.stdout.write(`${JSON.stringify({ ...line, at: systemNow() })}\n`);
};

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as ElectionWorkerArgs;
  const app = await NestFactory.createApplicationContext(LockerModule.forRoot(args.config), { logger: ['error'] });
  app.enableShutdownHooks();
  const election = app.get(LockerService).election(args.name, { ttl: args.ttl, value: args.value });
  if (args.mode === 'observer') {
    const observing = (async () => {
      for await (const leader of election.observe()) {
        print({ event: 'observed', term: leader?.term.toString() ?? null, value: leader?.value, id: leader?.id });
      }
      print({ event: 'ended' });
    })();
    print({ event: 'ready' });
    await observing;
    return;
  }
  print({ event: 'ready' });
  if (args.mode === 'candidate') {
    for (let term = 0; term < (args.terms ?? 1); term++) {
      const lock = await election.campaign();
      print({ event: 'elected', term: lock.fencingToken.toString() });
      const until = systemNow() + (args.holdMs ?? 100);
      while (lock.held && systemNow() < until) await sleep(10);
      if (lock.held) print({ event: 'resigning', term: lock.fencingToken.toString() });
      await election.resign();
    }
    await app.close();
    return;
  }
  const lock = await election.campaign();
  const term = lock.fencingToken.toString();
  print({ event: 'elected', term });
  lock.signal.addEventListener('abort', () => {
    const reason = lock.signal.reason as Error;
    print({ event: 'lost', term, reason: reason instanceof LockLostError ? `LockLostError:${reason.reason}` : reason.name });
  });
  while (lock.held) {
    await sleep(args.actMs ?? 50); // the work between the check and the write: where a pause makes a stale write
    print({ event: 'write', term });
  }
  await new Promise(() => undefined); // stays up: killed, or SIGTERM runs the shutdown hooks
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
