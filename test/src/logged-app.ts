/**
 * A separate OS process that runs a Nest app with LockerModule and reports what went through the Nest
 * logger, so the caller can check that nothing else reached the console (stdout holds exactly one JSON
 * line: the log entries; stderr holds nothing). Two lockers hand a lock over on one key, then it closes.
 */
import 'reflect-metadata';
import { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LockerConfig, LockerModule, LockerService } from 'nest-locker';

export interface LogEntry {
  level: string;
  context?: string;
  message: string;
}

const entries: LogEntry[] = [];
const keep =
  (level: string) =>
  (message: unknown, ...rest: unknown[]): void =>
    void entries.push({ level, message: String(message), context: rest.length ? String(rest[rest.length - 1]) : undefined });
const logger: LoggerService = {
  log: keep('log'),
  error: keep('error'),
  warn: keep('warn'),
  debug: keep('debug'),
  verbose: keep('verbose'),
};

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as LockerConfig;
  const [first, second] = await Promise.all(
    [0, 1].map(() => NestFactory.createApplicationContext(LockerModule.forRoot(config), { logger })),
  );
  const key = `logged-app-${process.pid}`;
  const held = await first.get(LockerService).acquire(key);
  const waiting = second.get(LockerService).acquire(key, { waitTime: 10_000 });
  await held.release();
  await (await waiting).release();
  await Promise.all([first.close(), second.close()]);
  process.stdout.write(`${JSON.stringify(entries)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
