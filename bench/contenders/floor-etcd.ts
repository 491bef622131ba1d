import { Etcd3 } from 'etcd3';
import { BenchClient, Contender, retryUntil } from './contender';

/** Hand-written floor: one txn creates the key on the client's one lease, one txn deletes it; retry every 1 ms. */
export const floorEtcd: Contender = {
  id: 'floor (etcd)',
  backend: 'etcd',
  floor: true,
  describe: 'hand-written: txn create-if-absent on one kept-alive lease per client + txn delete; busy: retry every 1 ms',
  async connect(servers): Promise<BenchClient> {
    const client = new Etcd3({ hosts: `http://${servers.etcd}` });
    const leases = new Map<number, Promise<string>>();
    const leaseFor = (ttl: number): Promise<string> => {
      let lease = leases.get(ttl);
      if (!lease) {
        const granted = client.lease(Math.ceil(ttl / 1000));
        granted.on('lost', () => leases.delete(ttl));
        lease = granted.grant();
        leases.set(ttl, lease);
      }
      return lease;
    };
    return {
      acquire: (key, options) =>
        retryUntil(
          async () => {
            const lease = await leaseFor(options.ttl);
            const created = await client.if(key, 'Create', '==', 0).then(client.put(key).value('').lease(lease)).commit();
            if (!created.succeeded) return undefined;
            const revision = created.header.revision;
            return {
              release: async () => void (await client.if(key, 'Create', '==', revision).then(client.delete().key(key)).commit()),
            };
          },
          1,
          options.waitTime,
        ),
      close: async () => client.close(),
    };
  },
};
