/**
 * A process whose server goes away while a waiter waits on a key, and which then closes its app: it must
 * exit soon after, not when a client library's retry timer fires or a stream the server never answers ends.
 * argv: driver (redis | etcd), then `gone` (this process starts its own server and kills it) or `silent <addr>`
 * (a server behind the parent's fault proxy: prints "queued", and the parent cuts it before writing a line
 * to stdin). Prints "closed <epoch ms>" as `app.close()` returns, then how the waiter ended.
 */
import 'reflect-metadata';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { NestFactory } from '@nestjs/core';
import { LockerConfig, LockerModule, LockerService } from 'nest-locker';
import { startEtcd, startRedis, TestServer } from '../harness/servers';

/** How long the server stays away before the app closes: calls go unanswered and clients retry meanwhile. */
const OUTAGE_MS = 2_000;
const QUEUED_WITHIN_MS = 10_000;

void (async () => {
  const [driver, mode, silentAddr = ''] = process.argv.slice(2) as ['redis' | 'etcd', 'gone' | 'silent', string?];
  let server: TestServer | undefined;
  try {
    if (mode === 'gone') server = driver === 'redis' ? await startRedis() : await startEtcd();
    const addr = server?.addr ?? silentAddr;
    const config: LockerConfig =
      driver === 'redis'
        ? { redis: { addr, command_timeout: 1_000 }, locker: { driver, driver_instance_id: driver } }
        : { etcd: { endpoints: [addr], command_timeout: 1_000 }, locker: { driver, driver_instance_id: driver } };
    const app = await NestFactory.createApplicationContext(LockerModule.forRoot(config), { logger: false });
    const locker = app.get(LockerService);
    await locker.acquire('away', { ttl: 5_000 });
    const waiterEnded = locker.acquire('away', { ttl: 5_000, waitTime: 30_000 }).then(
      () => 'got the lock',
      (error: Error) => `ended with ${error.name}`,
    );
    // the waiter is queued on the server, and so listens for the release (a subscription, a watch)
    const queuedBy = Date.now() + QUEUED_WITHIN_MS;
    while (((await locker.inspect('away'))?.waiting ?? 0) === 0) {
      if (Date.now() > queuedBy) throw new Error(`the waiter was not queued within ${QUEUED_WITHIN_MS} ms`);
      await sleep(20);
    }
    if (server) await server.kill();
    else {
      process.stdout.write('queued\n');
      await once(process.stdin, 'data');
      process.stdin.destroy(); // read: it must not keep this process alive
    }
    await sleep(OUTAGE_MS);
    await app.close();
    process.stdout.write(`closed ${Date.now()}\n`);
    process.stdout.write(`waiter ${await waiterEnded}\n`);
  } catch (error) {
    process.stdout.write(`failed: ${String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await server?.stop();
  }
})();
