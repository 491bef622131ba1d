/**
 * A process whose server fails it, and which must then exit on its own soon after: not when a client
 * library's retry timer fires, nor when a socket the server never answers ends.
 * argv: `close <config json> <outage ms>` boots an app, holds a key and queues a waiter on it, prints
 * "queued", and once a line arrives on stdin (the parent has then made the server fail) waits the outage
 * (calls go unanswered, clients retry) and closes the app: it prints "closed <epoch ms>", then how the
 * waiter ended.
 * `bootstrap <config json>`: the app is expected not to start; prints "failed <epoch ms> <error name>
 * [<section>] <field>".
 * Either way, what still keeps the loop alive a while later is printed as "alive: …" (unless it has exited).
 */
import 'reflect-metadata';
import { createHook } from 'node:async_hooks';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { NestFactory } from '@nestjs/core';
import { LockerConfig, LockerConfigError, LockerModule, LockerService } from 'nest-locker';

const QUEUED_WITHIN_MS = 10_000;
/** When to say what still keeps the process alive, should it still be. */
const REPORT_ALIVE_AFTER_MS = 1_500;

const print = (line: string) => process.stdout.write(`${line}\n`);

function reportWhatKeepsAlive(): void {
  setTimeout(() => print(`alive: ${whatKeepsAlive().join('; ')}`), REPORT_ALIVE_AFTER_MS).unref();
}

/** What was created, by whom (why-is-node-running style): timers and sockets, until destroyed. */
const resources = new Map<number, { type: string; resource: { hasRef?(): boolean; _idleTimeout?: number }; by: string }>();
createHook({
  init(id, type, _trigger, resource) {
    if (type !== 'Timeout' && !type.endsWith('WRAP')) return;
    const frames = (new Error().stack ?? '').split('\n').filter((line) => /node_modules|dist\/lib/.test(line));
    resources.set(id, {
      type,
      resource,
      by: frames
        .slice(0, 2)
        .map((line) => line.trim())
        .join(' < '),
    });
  },
  destroy(id) {
    resources.delete(id);
  },
}).enable();

/** The timers and sockets that keep the loop alive, with their duration and who made them. */
function whatKeepsAlive(): string[] {
  return [...resources.values()]
    .filter(({ resource }) => resource.hasRef?.() ?? true)
    .map(({ type, resource, by }) => `${type}${resource._idleTimeout ? ` ${resource._idleTimeout} ms` : ''} ${by}`)
    .filter((what) => !what.includes('server-away-exit')); // this report's own timer
}

async function closeAfterOutage(config: LockerConfig, outageMs: number): Promise<void> {
  const app = await NestFactory.createApplicationContext(LockerModule.forRoot(config), { logger: false });
  const locker = app.get(LockerService);
  await locker.acquire('away', { ttl: 5_000 });
  // fair: on redis a default-mode waiter of the holder's own process waits for that release here, not in the server's queue
  const waiterEnded = locker.acquire('away', { ttl: 5_000, waitTime: 30_000, fair: true }).then(
    () => 'got the lock',
    (error: Error) => `ended with ${error.name}`,
  );
  // the waiter is queued on the server, and so listens for the release (a subscription, a watch)
  const queuedBy = Date.now() + QUEUED_WITHIN_MS;
  while (((await locker.inspect('away'))?.waiting ?? 0) === 0) {
    if (Date.now() > queuedBy) throw new Error(`the waiter was not queued within ${QUEUED_WITHIN_MS} ms`);
    await sleep(20);
  }
  print('queued');
  await once(process.stdin, 'data');
  process.stdin.destroy(); // read: it must not keep this process alive
  await sleep(outageMs);
  await app.close();
  print(`closed ${Date.now()}`);
  reportWhatKeepsAlive();
  print(`waiter ${await waiterEnded}`);
}

async function failToStart(config: LockerConfig): Promise<void> {
  process.stdin.destroy();
  try {
    const app = await NestFactory.createApplicationContext(LockerModule.forRoot(config), { logger: false, abortOnError: false });
    await app.close();
    print('started');
  } catch (error) {
    const where = error instanceof LockerConfigError ? ` [${error.section}] ${error.field}` : '';
    print(`failed ${Date.now()} ${(error as Error).name}${where}`);
    reportWhatKeepsAlive();
  }
}

void (async () => {
  const [phase, json, outageMs] = process.argv.slice(2) as ['close' | 'bootstrap', string, string?];
  const config = JSON.parse(json) as LockerConfig;
  try {
    await (phase === 'close' ? closeAfterOutage(config, Number(outageMs)) : failToStart(config));
  } catch (error) {
    print(`failed: ${String(error)}`);
    process.exitCode = 1;
  }
})();
