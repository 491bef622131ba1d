import type * as IORedis from 'ioredis';
import { parseHostPort, SectionReader } from '../../config/section-reader';
import { LockerConfigError } from '../../errors';
import type { LockerDriverFactory } from '../../interfaces/locker-driver.interface';
import { connectOrExplain, requireOptionalPeer } from '../../utils/optional-peer';
import { RedisLockDriver } from './redis-lock.driver';

const FIELDS = ['addr', 'auth', 'username', 'db', 'max_idle', 'idle_timeout', 'connect_timeout'] as const;

export interface RedisDriverSettings {
  section: string;
  addr: string;
  host: string;
  port: number;
  password?: string;
  username?: string;
  db: number;
  connectTimeout: number;
}

/** `driver = "redis"` with a `[redis]`-shaped connection section (addr, auth, db, max_idle, idle_timeout). */
export const redisDriverFactory: LockerDriverFactory<RedisDriverSettings> = {
  name: 'redis',
  defaultKeyPrefix: 'nest-locker:',
  parseConnection(section, raw) {
    const reader: SectionReader = new SectionReader(section, raw ?? {}, FIELDS);
    const addr = reader.string('addr', true);
    reader.integer('max_idle', 0);
    reader.integer('idle_timeout', 0);
    return {
      section,
      addr,
      ...parseHostPort(reader, 'addr', addr),
      password: reader.has('auth') ? reader.string('auth') : undefined,
      username: reader.string('username'),
      db: reader.integer('db', 0) ?? 0,
      connectTimeout: reader.integer('connect_timeout', 1) ?? 5000,
    };
  },
  async create(settings, context) {
    const { Redis } = requireOptionalPeer<typeof IORedis>('ioredis', 'redis', settings.section);
    const client = new Redis({
      host: settings.host,
      port: settings.port,
      password: settings.password,
      username: settings.username,
      db: settings.db,
      lazyConnect: true,
      connectTimeout: settings.connectTimeout,
      // Lock commands fail fast while the server is away; keep-alive retries on its own schedule.
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 50, 1000),
    });
    client.on('error', () => undefined); // ioredis reconnects by itself; failures surface on commands
    await connectOrExplain(
      client.connect().then(() => client.ping()),
      settings.connectTimeout,
      (reason) => {
        client.disconnect();
        return new LockerConfigError({
          section: settings.section,
          field: 'addr',
          message: `cannot reach redis at ${settings.addr}: ${reason}`,
        });
      },
    );
    return new RedisLockDriver(client, context);
  },
};
