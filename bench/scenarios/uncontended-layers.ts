import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { LockerModule, LockerService } from 'nest-locker';
import type { LockerDriver } from 'nest-locker/driver-kit';
import { redisKeyNames } from '../../lib/drivers/redis/redis-key-names';
import { withLockerScripts } from '../../lib/drivers/redis/redis-scripted-client';
import { getLockerDriverToken } from '../../lib/utils/get-locker-driver-token.util';
import { floorRedis } from '../contenders/floor-redis';
import { hostPort } from '../contenders/contender';
import { contenderSelected, RoundRow, Scenario } from './scenario';
import { timeCycles, UNCONTENDED_COLUMNS } from './uncontended';

const TTL = 60_000;
const WAIT_TIME = 5_000;
/** The redis driver's default key prefix, as the service's calls use it. */
const PREFIX = 'nest-locker:';

/** The driver's uncontended take and release scripts, sent with bare ioredis as the driver sends them, replies checked. */
async function scriptsOnly(redisAddr: string): Promise<{ cycle: () => Promise<void>; close: () => void }> {
  const client = withLockerScripts(new Redis({ ...hostPort(redisAddr), commandTimeout: 5_000 }), 'PUBLISH');
  const names = redisKeyNames(PREFIX, 'layers-scripts');
  let serial = 0;
  return {
    async cycle() {
      const owner = `layers-${(++serial).toString(36)}`;
      const token = await client.lockerTake(names.lock, names.fence, owner, TTL);
      if (token === 0) throw new Error('the take script answered 0 (busy): the key was left held');
      const released = await client.lockerReleaseLean(names.lock, names.queue, owner);
      if (released !== 1) throw new Error(`the release script answered ${released}, not 1 (released)`);
    },
    close: () => client.disconnect(),
  };
}

/**
 * Where the time of an uncontended redis cycle goes: the floor, then the same acquire → release through
 * more and more of nest-locker: its two scripts alone, the driver's single attempt, the driver's waiting path,
 * and LockerService.
 */
export const uncontendedLayers: Scenario = {
  id: 'uncontended-layers',
  title: "1c. Where an uncontended redis cycle's time goes, layer by layer",
  about:
    `One key, back-to-back acquire → release (TTL ${TTL / 1000} s, keep-alive on, wait time ${WAIT_TIME / 1000} s where there is one). ` +
    "Each row adds a layer: the driver's two Lua scripts sent with bare ioredis and none of nest-locker's code; " +
    'driver.acquire with one attempt (wait: false, as tryAcquire); driver.acquire with a wait time (the waiting path); ' +
    'LockerService.acquire({ waitTime }) as in 1b. Ratios are to the floor (ioredis SET NX PX + compare-and-delete), ' +
    "per round, then the median of rounds. CPU is the client process's per cycle.",
  columns: UNCONTENDED_COLUMNS,
  async runRound(context) {
    if (!contenderSelected('nest-locker (redis)')) return [];
    const seconds = context.seconds;
    const rows: RoundRow[] = [];
    const row = async (name: string, cycle: () => Promise<void>, isFloor = false) =>
      rows.push({
        row: name,
        backend: 'redis',
        isFloor,
        metrics: await timeCycles(cycle, seconds, () => context.inspector.serverCpuUs('redis')),
      });

    const floor = await floorRedis.connect(context.servers);
    try {
      await row(
        'floor: SET NX PX + compare-and-delete',
        async () => await (await floor.acquire('layers-floor', { ttl: TTL })).release(),
        true,
      );
    } finally {
      await floor.close();
    }
    const scripts = await scriptsOnly(context.servers.redis);
    try {
      await row("the driver's two scripts, bare ioredis", scripts.cycle);
    } finally {
      scripts.close();
    }
    const app = await NestFactory.createApplicationContext(
      LockerModule.forRoot({ redis: { addr: context.servers.redis }, locker: { driver: 'redis', driver_instance_id: 'redis' } }),
      { logger: ['error'] },
    );
    try {
      const driver = app.get<LockerDriver>(getLockerDriverToken('redis'));
      // a fresh request per call, as the service makes one
      const driverCycle = (key: string, wait: boolean, waitTime?: number) => async () => {
        const lock = await driver.acquire({
          key,
          section: 'locker',
          keyPrefix: PREFIX,
          kind: 'lock',
          ttl: TTL,
          keepAlive: true,
          fair: false,
          wait,
          waitTime,
        });
        await lock!.release();
      };
      await row('driver.acquire, one attempt (wait: false)', driverCycle('layers-try', false));
      await row('driver.acquire, waiting path (waitTime)', driverCycle('layers-wait', true, WAIT_TIME));
      const locker = app.get(LockerService);
      await row(
        'LockerService.acquire({ waitTime })',
        async () => await (await locker.acquire('layers-service', { ttl: TTL, waitTime: WAIT_TIME })).release(),
      );
    } finally {
      await app.close();
    }
    return rows;
  },
};
