import { NestFactory } from '@nestjs/core';
import { LockerConfig, LockerModule, LockerService } from 'nest-locker';
import { BenchClient, BenchServers, Contender } from './contender';

/** nest-locker as an app uses it: LockerModule in a Nest application context, locks through LockerService. */
function nestLocker(id: string, backend: 'redis' | 'etcd', fair: boolean, describe: string): Contender {
  const config = (servers: BenchServers): LockerConfig =>
    backend === 'redis'
      ? { redis: { addr: servers.redis }, locker: { driver: 'redis', driver_instance_id: 'redis' } }
      : { etcd: { endpoints: [servers.etcd] }, locker: { driver: 'etcd', driver_instance_id: 'etcd' } };
  return {
    id,
    backend,
    describe,
    async connect(servers): Promise<BenchClient> {
      const app = await NestFactory.createApplicationContext(LockerModule.forRoot(config(servers)), { logger: ['error'] });
      const locker = app.get(LockerService);
      return {
        // the options object as an app writes it at the call: a literal (a spread copy is several times slower to make and to read)
        acquire: (key, { ttl, waitTime, keepAlive }) => locker.acquire(key, { ttl, waitTime, keepAlive, fair }),
        withLock: (key, { ttl, waitTime, keepAlive }, body) => locker.withLock(key, body, { ttl, waitTime, keepAlive, fair }),
        close: () => app.close(),
      };
    },
  };
}

export const nestLockerRedis = nestLocker('nest-locker (redis)', 'redis', false, 'LockerService.acquire, keep-alive on (default)');
export const nestLockerRedisFair = nestLocker('nest-locker (redis, fair)', 'redis', true, 'LockerService.acquire with fair: true');
export const nestLockerEtcd = nestLocker('nest-locker (etcd)', 'etcd', false, 'LockerService.acquire, keep-alive on (default)');
