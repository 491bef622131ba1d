import { CONNECTION_DEFAULTS } from '../../config/connection-defaults';
import type * as Etcd from 'etcd3';
import { readAppClient } from '../../config/app-client';
import { parseHostPort, SectionReader } from '../../config/section-reader';
import { explainTlsFailure } from '../../config/tls-diagnosis';
import { readTls, TlsSettings } from '../../config/tls-options';
import { LockerConfigError } from '../../errors';
import type { LockerDriverFactory } from '../../interfaces/locker-driver.interface';
import { requireOptionalPeer } from '../../utils/optional-peer';
import { connectOrExplain } from '../../utils/connect-or-explain';
import type { PlainProtocol } from '../../utils/protocol-probe';
import { callDeadline, DEFAULT_COMMAND_TIMEOUT_MS, retryUnlessTimedOut } from './etcd-call-deadline';
import { EndpointCoolDown, unreachableWith } from './etcd-endpoint-cool-down';
import { EtcdLockDriver } from './etcd-lock.driver';
import { probeEtcd } from './etcd-probe';
import { EtcdCallsInFlight } from './etcd-calls-in-flight';
import { boundTlsHandshakes } from './etcd-tls-handshakes';
import { watchRetryBackoff } from './etcd-watch-stream';

const FIELDS = ['endpoints', 'username', 'password', 'connect_timeout', 'command_timeout', 'tls', 'client'] as const;

const DEFAULT_CONNECT_TIMEOUT_MS = CONNECTION_DEFAULTS.connectTimeout;

export interface EtcdDriverSettings {
  section: string;
  /** URLs: `https://` with TLS, `http://` without. */
  endpoints: string[];
  username?: string;
  password?: string;
  connectTimeout: number;
  /** Deadline of each etcd call, in ms (an app's own client keeps its own call options; keep-alive uses this). */
  commandTimeout: number;
  tls?: TlsSettings;
  /** The app's own client (`client`): used as given, never closed here; the other fields are then unset. */
  appClient?: Etcd.Etcd3;
}

/** `driver = "etcd"` with an `[etcd]`-shaped connection section (endpoints), or `client`, an app's own. */
export const etcdDriverFactory: LockerDriverFactory<EtcdDriverSettings> = {
  name: 'etcd',
  defaultKeyPrefix: 'nest-locker/',
  parseConnection(section, raw) {
    const reader: SectionReader = new SectionReader(section, raw ?? {}, FIELDS);
    const appClient = readAppClient(reader, 'etcd') as Etcd.Etcd3 | undefined;
    if (appClient) {
      return { section, appClient, endpoints: [], connectTimeout: DEFAULT_CONNECT_TIMEOUT_MS, commandTimeout: DEFAULT_COMMAND_TIMEOUT_MS };
    }
    const tls = readTls(reader);
    const endpoints = reader.stringList('endpoints').map((endpoint) => endpointUrl(reader, endpoint, tls !== undefined));
    if (new Set(endpoints.map((url) => url.slice(0, url.indexOf(':')))).size > 1) {
      reader.fail('endpoints', `expected all http:// or all https:// endpoints, got ${endpoints.join(', ')}`);
    }
    return {
      section,
      endpoints,
      username: reader.string('username'),
      password: reader.string('password'),
      connectTimeout: reader.integer('connect_timeout', 1) ?? DEFAULT_CONNECT_TIMEOUT_MS,
      commandTimeout: reader.integer('command_timeout', 1) ?? DEFAULT_COMMAND_TIMEOUT_MS,
      tls,
    };
  },
  async create(settings, context) {
    const etcd = requireOptionalPeer<typeof Etcd>('etcd3', 'etcd', settings.section);
    const client = settings.appClient ?? openClient(etcd, settings);
    const owned = settings.appClient === undefined;
    await connectOrExplain(probeEtcd(client), settings.connectTimeout, (reason) => {
      if (owned) client.close();
      return unreachable(settings, reason);
    });
    return new EtcdLockDriver(client, context, owned, settings.commandTimeout);
  },
};

/** `host:port` or a URL; a bare address gets `https://` with `tls`, `http://` without. */
function endpointUrl(reader: SectionReader, endpoint: string, tls: boolean): string {
  parseHostPort(reader, 'endpoints', endpoint);
  const scheme = /^([a-z]+):\/\//.exec(endpoint)?.[1];
  if (scheme === undefined) return `${tls ? 'https' : 'http'}://${endpoint}`;
  if (scheme !== 'http' && scheme !== 'https') reader.fail('endpoints', `expected http:// or https:// endpoints, got "${endpoint}"`);
  if (tls && scheme === 'http') reader.fail('endpoints', `expected https:// endpoints with tls, got "${endpoint}"`);
  return endpoint;
}

function openClient(etcd: typeof Etcd, settings: EtcdDriverSettings): Etcd.Etcd3 {
  const { Etcd3, GRPCUnavailableError: Unavailable, GRPCDeadlineExceededError, isRecoverableError } = etcd;
  const coolDown = new EndpointCoolDown(
    settings.endpoints,
    unreachableWith(Unavailable),
    // Unavailable: etcd3 retries it on another endpoint
    (host) => new Unavailable(`${host} is passed over for a moment after failing to connect`),
  );
  const { tls } = settings;
  const deadline = callDeadline(settings.commandTimeout);
  const calls = new EtcdCallsInFlight();
  const client = new Etcd3({
    hosts: settings.endpoints,
    auth: settings.username ? { username: settings.username, password: settings.password ?? '' } : undefined,
    dialTimeout: settings.connectTimeout,
    // without a table, https:// endpoints are verified against the system CAs by etcd3 itself
    credentials: tls?.table ? { rootCertificate: tls.ca as Buffer, privateKey: tls.key, certChain: tls.cert } : undefined,
    grpcOptions: tls?.serverName
      ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName }
      : undefined,
    defaultCallOptions: (context) => ({ ...deadline(context), interceptors: [calls.interceptor as never] }),
    faultHandling: {
      host: (host) => coolDown.policy(host) as never,
      global: retryUnlessTimedOut(isRecoverableError, GRPCDeadlineExceededError) as never,
      watchBackoff: watchRetryBackoff,
    },
  });
  const handshakes = boundTlsHandshakes(client, settings.connectTimeout);
  // etcd3's close leaves running calls and TLS handshakes be: on a silent server they kept the process alive
  const close = client.close.bind(client);
  client.close = () => {
    close();
    handshakes.closed();
    calls.cancelAll('the etcd client closed');
  };
  return client;
}

/** etcd answers HTTP/1 on its client port; a TLS port answers plain HTTP with "400 ... HTTPS server". */
const ETCD_PLAIN: PlainProtocol = {
  name: 'http (etcd)',
  request: 'GET /health HTTP/1.0\r\n\r\n',
  answers: (reply) => /^HTTP\/1\.[01] (?!400)\d{3}/.test(reply),
};

/** How long a bootstrap that failed may spend finding out whether TLS is to blame. */
const TLS_PROBE_MS = 1_000;

async function unreachable(settings: EtcdDriverSettings, reason: string): Promise<LockerConfigError> {
  if (settings.appClient) {
    return new LockerConfigError({
      section: settings.section,
      field: 'client',
      message: `the app's etcd3 client does not answer: ${reason}`,
    });
  }
  const where = `etcd at ${settings.endpoints.join(', ')}`;
  const first = new URL(settings.endpoints[0]);
  const probe = {
    address: { host: first.hostname, port: Number(first.port) },
    plain: ETCD_PLAIN,
    ms: Math.min(settings.connectTimeout, TLS_PROBE_MS),
  };
  const tls = await explainTlsFailure(settings.section, settings.tls, reason, probe);
  if (tls)
    return new LockerConfigError({ section: tls.section, field: tls.field, message: `${tls.hint}; connecting to ${where}: ${reason}` });
  return new LockerConfigError({ section: settings.section, field: 'endpoints', message: `cannot reach ${where}: ${reason}` });
}
