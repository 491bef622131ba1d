import type * as Etcd from 'etcd3';
import { parseHostPort, SectionReader } from '../../config/section-reader';
import { LockerConfigError } from '../../errors';
import type { LockerDriverFactory } from '../../interfaces/locker-driver.interface';
import { connectOrExplain, requireOptionalPeer } from '../../utils/optional-peer';
import { callDeadline, DEFAULT_COMMAND_TIMEOUT_MS, retryUnlessTimedOut } from './etcd-call-deadline';
import { EndpointCoolDown, unreachableWith } from './etcd-endpoint-cool-down';
import { EtcdLockDriver } from './etcd-lock.driver';

const FIELDS = ['endpoints', 'username', 'password', 'connect_timeout', 'command_timeout'] as const;

export interface EtcdDriverSettings {
  section: string;
  endpoints: string[];
  username?: string;
  password?: string;
  connectTimeout: number;
  /** Deadline of each etcd call, in ms. */
  commandTimeout: number;
}

/** `driver = "etcd"` with an `[etcd]`-shaped connection section (endpoints). */
export const etcdDriverFactory: LockerDriverFactory<EtcdDriverSettings> = {
  name: 'etcd',
  defaultKeyPrefix: 'nest-locker/',
  parseConnection(section, raw) {
    const reader: SectionReader = new SectionReader(section, raw ?? {}, FIELDS);
    const endpoints = reader.stringList('endpoints');
    endpoints.forEach((endpoint) => parseHostPort(reader, 'endpoints', endpoint));
    return {
      section,
      endpoints,
      username: reader.string('username'),
      password: reader.string('password'),
      connectTimeout: reader.integer('connect_timeout', 1) ?? 5000,
      commandTimeout: reader.integer('command_timeout', 1) ?? DEFAULT_COMMAND_TIMEOUT_MS,
    };
  },
  async create(settings, context) {
    const { Etcd3, GRPCUnavailableError, GRPCDeadlineExceededError, isRecoverableError } = requireOptionalPeer<typeof Etcd>(
      'etcd3',
      'etcd',
      settings.section,
    );
    const hosts = settings.endpoints.map((endpoint) => (/^[a-z]+:\/\//.test(endpoint) ? endpoint : `http://${endpoint}`));
    const coolDown = new EndpointCoolDown(
      hosts,
      unreachableWith(GRPCUnavailableError),
      // Unavailable: etcd3 retries it on another endpoint
      (host) => new GRPCUnavailableError(`${host} is passed over for a moment after failing to connect`),
    );
    const client = new Etcd3({
      hosts,
      auth: settings.username ? { username: settings.username, password: settings.password ?? '' } : undefined,
      dialTimeout: settings.connectTimeout,
      defaultCallOptions: callDeadline(settings.commandTimeout),
      faultHandling: {
        host: (host) => coolDown.policy(host) as never,
        global: retryUnlessTimedOut(isRecoverableError, GRPCDeadlineExceededError) as never,
      },
    });
    await connectOrExplain(client.get('nest-locker-connect-check').exec(), settings.connectTimeout, (reason) => {
      client.close();
      return new LockerConfigError({
        section: settings.section,
        field: 'endpoints',
        message: `cannot reach etcd at ${settings.endpoints.join(', ')}: ${reason}`,
      });
    });
    return new EtcdLockDriver(client, context, true, settings.commandTimeout);
  },
};
