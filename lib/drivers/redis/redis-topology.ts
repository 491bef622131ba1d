import { parseHostPort, SectionReader } from '../../config/section-reader';

const TOPOLOGY_FIELDS = ['addr', 'cluster', 'sentinels'] as const;

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/**
 * Where the servers are: one server (`addr`), a Redis Cluster (`cluster`), a master found by Sentinel, or
 * wherever the app's own client (`client`) connects.
 */
export type RedisTopology =
  | ({ kind: 'server'; addr: string } & RedisNodeAddress)
  | { kind: 'cluster'; nodes: RedisNodeAddress[] }
  | { kind: 'sentinel'; sentinels: RedisNodeAddress[]; masterName: string }
  | { kind: 'app-client' };

export function readTopology(reader: SectionReader): RedisTopology {
  const given = TOPOLOGY_FIELDS.filter((field) => reader.has(field));
  // `addr = ""` alone reads as "not set", but then nothing says where the server is: say what addr wants.
  if (given.length === 0 && reader.value('addr') === '') reader.string('addr', true);
  if (given.length !== 1) {
    const field = given[1] ?? 'addr';
    const found = given.length === 0 ? 'none was given' : `got ${given.join(' and ')}`;
    reader.fail(
      field,
      `expected exactly one of addr ("host:port"), cluster (["host:port", ...]) or sentinels (with master_name); ${found}`,
    );
  }
  if (given[0] !== 'sentinels' && reader.has('master_name')) {
    reader.fail('master_name', 'expected master_name only together with sentinels');
  }
  switch (given[0]) {
    case 'addr': {
      const addr = reader.string('addr', true);
      return { kind: 'server', addr, ...parseHostPort(reader, 'addr', addr) };
    }
    case 'cluster':
      return { kind: 'cluster', nodes: reader.stringList('cluster').map((node) => parseHostPort(reader, 'cluster', node)) };
    default: {
      const sentinels = reader.stringList('sentinels').map((node) => parseHostPort(reader, 'sentinels', node));
      // `master_name = ""` is refused by string() below: it is required here, so "not set" would be an error too
      if (reader.value('master_name') === undefined) {
        reader.fail('master_name', 'expected the name sentinels monitor the master under, with sentinels');
      }
      return { kind: 'sentinel', sentinels, masterName: reader.string('master_name', true) };
    }
  }
}

const TOPOLOGY_FIELD = { server: 'addr', cluster: 'cluster', sentinel: 'sentinels', 'app-client': 'client' } as const;

export const topologyField = (topology: RedisTopology): string => TOPOLOGY_FIELD[topology.kind];

const hostPorts = (nodes: RedisNodeAddress[]): string => nodes.map((node) => `${node.host}:${node.port}`).join(', ');

export function describeTopology(topology: RedisTopology): string {
  if (topology.kind === 'server') return `redis at ${topology.addr}`;
  if (topology.kind === 'cluster') return `a redis cluster through ${hostPorts(topology.nodes)}`;
  if (topology.kind === 'app-client') return "redis through the app's client";
  return `redis master "${topology.masterName}" through sentinels ${hostPorts(topology.sentinels)}`;
}
