import { Etcd3, EtcdLockFailedError } from 'etcd3';
import { BenchClient, Contender, retryUntil } from './contender';

/** etcd3's Lock fails at once when held; its README leaves waiting to a retry around it. */
const RETRY_DELAY_MS = 10;

export const etcd3Lock: Contender = {
  id: 'etcd3 Lock',
  backend: 'etcd',
  package: 'etcd3',
  alwaysKeepsAlive: true,
  describe: `client.lock(key).ttl(s).acquire(): a new kept-alive lease per lock; busy: retry every ${RETRY_DELAY_MS} ms`,
  async connect(servers): Promise<BenchClient> {
    const client = new Etcd3({ hosts: `http://${servers.etcd}` });
    return {
      acquire: (key, options) =>
        retryUntil(
          async () => {
            const lock = client.lock(key).ttl(Math.ceil(options.ttl / 1000));
            try {
              await lock.acquire();
            } catch (error) {
              if (error instanceof EtcdLockFailedError) return undefined;
              throw error;
            }
            return { release: () => lock.release() };
          },
          RETRY_DELAY_MS,
          options.waitTime,
        ),
      close: async () => client.close(),
    };
  },
};
