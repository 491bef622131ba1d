import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';
import { requireOptionalPeer } from '../../utils/optional-peer';
import type { ExpectedReplicas, OnFailover, ReplicaView } from './redis-replica-acks';
import { SentinelState, SentinelView } from './redis-sentinel-view';

/** `ip:port` of the server at the other end of `client`'s connection, as the sentinels would write it. */
function peerOf(client: Redis): string | undefined {
  const stream = client.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  if (!stream?.remoteAddress) return undefined;
  return `${stream.remoteAddress.replace(/^::ffff:/, '')}:${stream.remotePort}`;
}

/**
 * Sentinel: writes wait for the replicas the sentinels could promote. A failover under way (a replica being
 * promoted) lets no write count and loses the locks held through the master now. Once the sentinels name
 * another master (or the client is seen on a server they list as a replica: the old master), the client is
 * reconnected, to the master they name: the view's replicas are that master's, and a connection made before
 * is not on it. The app's own client too: it is on a master the sentinels demote ~10 s later.
 */
export function sentinelReplicaView(client: Redis, commandTimeout: number, onFailover: OnFailover): ReplicaView {
  let state: SentinelState | undefined;
  /** Masters the sentinels named before: a connection still on one is on a server they demote (a planned failover). */
  const formerMasters = new Set<string>();
  /** Whether the client is on a former master (ioredis may reconnect to one when a sentinel lags). */
  const isFormerMaster = (peer: string | undefined, current: SentinelState): peer is string =>
    peer !== undefined && peer !== current.master && formerMasters.has(peer);
  const onChange = (next: SentinelState, before?: SentinelState) => {
    state = next;
    const peer = peerOf(client);
    if (before && before.master !== next.master) formerMasters.add(before.master);
    formerMasters.delete(next.master);
    if (before && before.master !== next.master) {
      onFailover(`the sentinels moved the master from ${before.master} to ${next.master} (a failover)`, true);
    } else if (client.status === 'ready' && isFormerMaster(peer, next)) {
      onFailover(`the server this connection is on (${peer}) is no longer the master; the sentinels name ${next.master}`, true);
    } else if (peer && client.status === 'ready' && next.replicaAddrs.includes(peer)) {
      onFailover(`the server this connection is on (${peer}) is a replica now; the sentinels name ${next.master}`, true);
    } else if (next.failingOver && !before?.failingOver) {
      onFailover(`the sentinels are failing the master ${next.master} over to a replica`, false);
    }
  };
  // the client exists, so ioredis is installed (a client's `constructor` is not its class: ioredis mixes in)
  const { Redis } = requireOptionalPeer<typeof IORedis>('ioredis', 'redis', 'redis');
  const view = new SentinelView(Redis, client.options, commandTimeout, onChange);
  const expectedOf = (current?: SentinelState): ExpectedReplicas => {
    if (!current) return 'no sentinel answered which replicas could take over';
    if (current.failingOver) return `the master ${current.master} is failing over`;
    const peer = peerOf(client);
    // a write there is one the master the sentinels name never sees
    return isFormerMaster(peer, current) ? `the connection is on ${peer}, which the sentinels no longer name as master` : current.replicas;
  };
  return {
    expected: () => (state ? expectedOf(state) : view.current().then(expectedOf)),
    refresh: () => void view.refresh(),
    stop: () => view.stop(),
  };
}
