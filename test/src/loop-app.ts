/**
 * One node of the e2e cluster: a Nest app with a @LockedInterval job and a @Cron + @WithLock(skip) job,
 * each appending what it ran to a shared file. Shuts down gracefully on SIGTERM.
 */
import 'reflect-metadata';
import { appendFileSync } from 'node:fs';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, ScheduleModule } from '@nestjs/schedule';
import { LockContext, LockedInterval, LockerConfig, LockerModule, WithLock } from 'nest-locker';
import { sleep, systemNow } from '../helpers/wait';

interface LoopAppArgs {
  config: LockerConfig;
  ttl: number;
  runsFile: string;
  ticksFile: string;
}

const args = JSON.parse(process.argv[2]) as LoopAppArgs;

export interface LoopRun {
  pid: number;
  start: number;
  end: number;
  token: string;
}

@Injectable()
class ClusterJobs {
  @LockedInterval({ key: 'e2e-loop', interval: 50, ttl: args.ttl })
  async loop(): Promise<void> {
    const start = systemNow();
    await sleep(100);
    const lock = LockContext.current();
    if (!lock?.held) return; // lost while running: not a run this node may count
    const run: LoopRun = { pid: process.pid, start, end: systemNow(), token: lock.fencingToken.toString() };
    appendFileSync(args.runsFile, `${JSON.stringify(run)}\n`);
  }

  @Cron('* * * * * *')
  @WithLock('e2e-tick', { onBusy: 'skip', minHold: 500, ttl: args.ttl })
  async tick(): Promise<void> {
    appendFileSync(args.ticksFile, `${JSON.stringify({ pid: process.pid, at: systemNow() })}\n`);
  }
}

@Module({ imports: [LockerModule.forRoot(args.config), ScheduleModule.forRoot()], providers: [ClusterJobs] })
class LoopAppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(LoopAppModule, { logger: ['error'] });
  app.enableShutdownHooks();
  process.stdout.write('ready\n');
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
