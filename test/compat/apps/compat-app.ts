// One Nest app, built and run by test/compat/compat-matrix.spec.ts against the packed nest-locker in a temporary
// directory: as CommonJS with Nest 11 + ioredis 5, and as an ES module with Nest 12 + ioredis 6. It prints one
// JSON line with what it saw; the spec asserts on it. REDIS_ADDR is the spec's private redis.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LockContext, LockedInterval, LockedIntervalRegistry, LockerModule, WithLock, type LockerConfig } from 'nest-locker';
import type { LockerDriver } from 'nest-locker/driver-kit';

const LOOP_RUNS = 3;
const config: LockerConfig = {
  redis: { addr: process.env.REDIS_ADDR },
  locker: { driver: 'redis', driver_instance_id: 'redis' },
};

@Injectable()
class Payments {
  @WithLock('compat-pay:{0}', { waitTime: 10_000 })
  async pay(order: string): Promise<{ order: string; key?: string; token: string; held?: boolean }> {
    const lock = LockContext.current();
    return { order, key: lock?.key, token: String(lock?.fencingToken), held: lock?.held };
  }

  /** The spec holds this lock from its own process while the app runs. */
  @WithLock('compat-busy', { onBusy: 'skip' })
  async whileBusy(): Promise<string> {
    return 'ran';
  }
}

@Injectable()
class Reports {
  readonly runs: { start: number; end: number; token: string }[] = [];

  @LockedInterval({ key: 'compat-loop', interval: 20 })
  async build(): Promise<void> {
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10));
    this.runs.push({ start, end: Date.now(), token: String(LockContext.current()?.fencingToken) });
  }
}

@Module({
  imports: [LockerModule.forRootAsync({ useFactory: () => config })],
  providers: [Payments, Reports],
})
class AppModule {}

const version = (name: string): string =>
  (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  const payments = app.get(Payments);
  const paid = await payments.pay('42');
  const busy = (await payments.whileBusy()) ?? 'skipped';
  const reports = app.get(Reports);
  while (reports.runs.length < LOOP_RUNS) await new Promise((resolve) => setTimeout(resolve, 20));
  const { holding } = app.get(LockedIntervalRegistry).get('compat-loop');
  await app.close();
  const driverType: LockerDriver['type'] = 'redis';
  const system = typeof module === 'undefined' ? 'esm' : 'cjs';
  console.log(
    JSON.stringify({
      system,
      nest: version('@nestjs/core'),
      ioredis: version('ioredis'),
      driverType,
      paid,
      busy,
      holding,
      runs: reports.runs,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
