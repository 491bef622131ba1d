import { describe } from '../utils/describe';
import { requireOptionalPeer } from '../utils/optional-peer';
import type { SectionReader } from './section-reader';

export type AppClientKind = 'redis' | 'etcd';

const EXPECTED: Record<AppClientKind, string> = {
  redis: 'a connected ioredis Redis or Cluster',
  etcd: 'an etcd3 Etcd3',
};

/**
 * `client` of a connection section: an app's own ioredis or etcd3 client (object config only), used as
 * given. It brings its own connection, so no other field of the section may be set beside it.
 * Recognised by class when the app shares our copy of the package, else by shape (an app may bundle
 * its own copy, where `instanceof` fails).
 */
export function readAppClient(reader: SectionReader, kind: AppClientKind): unknown {
  if (!reader.has('client')) return undefined;
  const beside = reader.fields().find((field) => field !== 'client');
  if (beside) {
    reader.fail(
      beside,
      `not allowed beside client: the app's own client brings its connection and settings; expected only client in [${reader.section}]`,
    );
  }
  const client = reader.value('client');
  const seen = kindOf(client, kind, reader.section);
  if (seen !== kind) {
    const got = seen ? `${seen === 'redis' ? 'an ioredis' : 'an etcd3'} client` : describe(client);
    reader.fail('client', `expected ${EXPECTED[kind]} client for the "${kind}" driver, got ${got}`);
  }
  if (kind === 'redis') {
    const status = (client as { status: string }).status;
    if (status === 'end' || status === 'wait') {
      const why = status === 'end' ? 'it was closed (quit/disconnect)' : 'it was created with lazyConnect and never connected';
      reader.fail('client', `expected ${EXPECTED.redis} client, got one whose status is "${status}": ${why}`);
    }
  }
  return client;
}

function kindOf(client: unknown, wanted: AppClientKind, section: string): AppClientKind | undefined {
  if (client === null || typeof client !== 'object') return undefined;
  // a class check needs the package: only load the one this section's driver needs anyway
  if (wanted === 'redis') {
    const ioredis = requireOptionalPeer<typeof import('ioredis')>('ioredis', 'redis', section);
    if (client instanceof ioredis.Redis || client instanceof ioredis.Cluster) return 'redis';
  } else {
    const etcd3 = requireOptionalPeer<typeof import('etcd3')>('etcd3', 'etcd', section);
    if (client instanceof etcd3.Etcd3) return 'etcd';
  }
  const has = (...methods: string[]) => methods.every((method) => typeof (client as Record<string, unknown>)[method] === 'function');
  if (has('defineCommand', 'duplicate', 'evalsha') && typeof (client as { status?: unknown }).status === 'string') return 'redis';
  if (has('getAll', 'lease', 'namespace', 'close')) return 'etcd';
  return undefined;
}
