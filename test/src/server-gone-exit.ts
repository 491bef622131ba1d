/**
 * A process whose server (argv[2]: redis or etcd) goes away while a waiter waits on a key, and which then
 * closes its app: it must exit soon after, not when a client library's retry timer next fires (etcd3's
 * watch-stream retry, which nothing can cancel, grew to 30 s). Prints how the waiter ended, then
 * "closed <epoch ms>" as `app.close()` returns. Its private server is stopped whatever happens.
 */
import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { NestFactory } from '@nestjs/core';
import { LockerConfig, LockerModule, LockerService } from 'nest-locker';
import { startEtcd, startRedis } from '../harness/servers';

/** How long the server stays away before the app closes: the clients retry (and back off) meanwhile. */
const OUTAGE_MS = 2_000;
const QUEUED_WITHIN_MS = 10_000;

void (async () => {
  const driver = process.argv[2] as 'redis' | 'etcd';
  const server = driver === 'redis' ? await startRedis() : await startEtcd();
  try {
    const config: LockerConfig =
      driver === 'redis'
        ? { redis: { addr: server.addr, command_timeout: 1_000 }, locker: { driver, driver_instance_id: driver } }
        : { etcd: { endpoints: [server.addr], command_timeout: 1_000 }, locker: { driver, driver_instance_id: driver } };
    const app = await NestFactory.createApplicationContext(LockerModule.forRoot(config), { logger: false });
    const locker = app.get(LockerService);
    await locker.acquire('gone', { ttl: 5_000 });
    const waiterEnded = locker.acquire('gone', { ttl: 5_000, waitTime: 30_000 }).then(
      () => 'got the lock',
      (error: Error) => `ended with ${error.name}`,
    );
    // the waiter is queued on the server, and so listens for the release (a subscription, a watch)
    const queuedBy = Date.now() + QUEUED_WITHIN_MS;
    while (((await locker.inspect('gone'))?.waiting ?? 0) === 0) {
      if (Date.now() > queuedBy) throw new Error(`the waiter was not queued within ${QUEUED_WITHIN_MS} ms`);
      await sleep(20);
    }
    await server.kill();
    await sleep(OUTAGE_MS);
    await app.close();
    process.stdout.write(`closed ${Date.now()}\n`);
    process.stdout.write(`waiter ${await waiterEnded}\n`);
  } catch (error) {
    process.stdout.write(`failed: ${String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await server.stop();
  }
})();
