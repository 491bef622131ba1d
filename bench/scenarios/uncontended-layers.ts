import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { LockerModule, LockerService } from 'nest-locker';
import type { LockerDriver } from 'nest-locker/driver-kit';
import { redisKeyNames } from '../../lib/drivers/redis/redis-key-names';
import { withLockerScripts } from '../../lib/drivers/redis/redis-scripted-client';
import { FENCE_IDLE_MS } from '../../lib/drivers/redis/redis-scripts';
import { getLockerDriverToken } from '../../lib/utils/get-locker-driver-token.util';
import { floorRedis } from '../contenders/floor-redis';
import { hostPort } from '../contenders/contender';
import type { RoundRow, Scenario } from './scenario';
import { timeCycles, UNCONTENDED_COLUMNS } from './uncontended';

const TTL = 60_000;
const WAIT_TIME = 5_000;
/** What the driver sends for a keep-alive lock of TTL: a grant's lease (see the redis driver). */
const GRANT_LEASE = 2_000;

/**
 * Where the time of an uncontended redis cycle goes: the same acquire → release, called through fewer and
 * fewer of nest-locker's layers, down to its two scripts sent with bare ioredis.
 */
export const uncontendedLayers: Scenario = {
  id: 'uncontended-layers',
  title: '1c. Where an uncontended redis cycle goes, layer by layer',
  about:
    `One key, back-to-back acquire → release (TTL ${TTL / 1000} s, keep-alive on, wait time ${WAIT_TIME / 1000} s where there is one), ` +
    "each row one layer less: LockerService (as 1b), the driver's waiting path, the driver's single attempt (tryAcquire), " +
    "and the driver's two Lua scripts sent with bare ioredis and none of nest-locker's code. Ratios are to the floor " +
    "(ioredis SET NX PX + compare-and-delete). CPU is the client process's per cycle.",
  columns: UNCONTENDED_COLUMNS,
  async runRound(context) {
    const only = process.env.BENCH_CONTENDERS?.split(',');
    if (only && !only.some((part) => 'floor (redis) nest-locker (redis)'.includes(part))) return [];
    const seconds = context.seconds;
    const rows: RoundRow[] = [];
    const row = (name: string, metrics: RoundRow['metrics'], isFloor = false) =>
      rows.push({ row: name, backend: 'redis', isFloor, metrics });

    const floor = await floorRedis.connect(context.servers);
    row(
      'floor: SET NX PX + compare-and-delete',
      await timeCycles(async () => await (await floor.acquire('layers-floor', { ttl: TTL })).release(), seconds),
      true,
    );
    await floor.close();

    const client = withLockerScripts(new Redis({ ...hostPort(context.servers.redis), commandTimeout: 5_000 }), 'PUBLISH');
    const names = redisKeyNames('locker:', 'layers-scripts');
    let serial = 0;
    row(
      "the driver's two scripts, bare ioredis",
      await timeCycles(async () => {
        const owner = `layers-${(++serial).toString(36)}`;
        await client.lockerAcquire(
          names.lock,
          names.fence,
          names.queue,
          names.queueLeases,
          names.queueTtls,
          owner,
          TTL,
          FENCE_IDLE_MS,
          0,
          '0',
          GRANT_LEASE,
        );
        await client.lockerRelease(
          names.lock,
          names.fence,
          names.queue,
          names.queueLeases,
          names.queueTtls,
          owner,
          names.channel,
          FENCE_IDLE_MS,
          '0',
        );
      }, seconds),
    );
    client.disconnect();

    const app = await NestFactory.createApplicationContext(
      LockerModule.forRoot({ redis: { addr: context.servers.redis }, locker: { driver: 'redis', driver_instance_id: 'redis' } }),
      { logger: ['error'] },
    );
    try {
      const driver = app.get<LockerDriver>(getLockerDriverToken('redis'));
      const request = { section: 'locker', keyPrefix: 'locker:', ttl: TTL, keepAlive: true, fair: false };
      row(
        'driver.acquire, one attempt (wait: false)',
        await timeCycles(async () => await (await driver.acquire({ ...request, key: 'layers-try', wait: false }))!.release(), seconds),
      );
      row(
        'driver.acquire, waiting path (waitTime)',
        await timeCycles(
          async () => await (await driver.acquire({ ...request, key: 'layers-wait', wait: true, waitTime: WAIT_TIME }))!.release(),
          seconds,
        ),
      );
      const locker = app.get(LockerService);
      row(
        'LockerService.acquire({ waitTime })',
        await timeCycles(async () => await (await locker.acquire('layers-service', { ttl: TTL, waitTime: WAIT_TIME })).release(), seconds),
      );
    } finally {
      await app.close();
    }
    return rows;
  },
};
