/**
 * A separate OS process that uses nest-locker as an app would. Modes:
 * - hammer: `iterations` times, take the lock and increment a counter file without any other protection,
 *   recording each critical section; prints the sections as JSON.
 * - hold: take the lock, print {"acquired": token}, and keep it until killed; if the wait ends without it
 *   (`waitTime`), print {"error": code} and stay up.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { LockerConfig, LockerModule, LockerService } from 'nest-locker';
import { sleep, wallNow } from '../helpers/wait';

interface WorkerArgs {
  mode: 'hammer' | 'hold';
  config: LockerConfig;
  key: string;
  ttl?: number;
  fair?: boolean;
  waitTime?: number;
  iterations?: number;
  counterFile?: string;
}

export interface CriticalSection {
  worker: number;
  start: number;
  end: number;
  token: string;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as WorkerArgs;
  const app = await NestFactory.createApplicationContext(LockerModule.forRoot(args.config), { logger: ['error'] });
  const locker = app.get(LockerService);
  if (args.mode === 'hold') {
    try {
      const lock = await locker.acquire(args.key, { ttl: args.ttl, fair: args.fair, waitTime: args.waitTime });
      process.stdout.write(`${JSON.stringify({ acquired: lock.fencingToken.toString() })}\n`);
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ error: (error as { code?: string }).code ?? String(error) })}\n`);
    }
    await new Promise(() => undefined);
  }
  const sections: CriticalSection[] = [];
  for (let i = 0; i < (args.iterations ?? 1); i++) {
    await locker.withLock(
      args.key,
      async (lock) => {
        const start = wallNow();
        const value = Number(readFileSync(args.counterFile as string, 'utf8'));
        await sleep(1); // widen the window in which a second holder would lose an update
        writeFileSync(args.counterFile as string, String(value + 1));
        sections.push({ worker: process.pid, start, end: wallNow(), token: lock.fencingToken.toString() });
      },
      { ttl: args.ttl },
    );
  }
  process.stdout.write(`${JSON.stringify(sections)}\n`);
  await app.close();
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
