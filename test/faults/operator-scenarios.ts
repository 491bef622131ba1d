import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { redisKeyNames } from '../../lib/drivers/redis/redis-key-names';
import type { TestServer } from '../harness/servers';
import { sleep } from '../helpers/wait';
import type { FaultDriver, FaultEnvironment } from './environments';
import { singleServer } from './environments';
import type { FaultRun } from './fault-run';
import { FaultScenario, recovered, TIMING, WORKERS } from './scenarios';

/**
 * How soon a holder whose lock was taken on the server must be told: its next renewal (a third of the TTL
 * after the last) and that renewal's answer or deadline (another third at most), plus room for a busy machine.
 */
const toldWithin = (driver: FaultDriver): number => Math.round((TIMING[driver].ttl * 2) / 3) + 300;

/** Runs `act` with a plain client of the environment's server, as an operator's shell would. */
async function asOperator(
  environment: FaultEnvironment,
  act: { redis?: (client: Redis) => Promise<unknown>; etcd?: (client: Etcd3) => Promise<unknown> },
): Promise<void> {
  const addr = environment.server?.addr as string;
  if (environment.driver === 'redis') {
    const [host, port] = addr.split(':');
    const client = new Redis({ host, port: Number(port), maxRetriesPerRequest: 1 });
    try {
      await act.redis?.(client);
    } finally {
      client.disconnect();
    }
  } else {
    const client = new Etcd3({ hosts: `http://${addr}` });
    try {
      await act.etcd?.(client);
    } finally {
      client.close();
    }
  }
}

/** The holder's queue entry on etcd: the oldest key under the lock's prefix. */
async function etcdHolderEntry(client: Etcd3, key: string) {
  const { kvs } = await client.getAll().prefix(etcdLockPrefix(key)).sort('Create', 'Ascend').limit(1).exec();
  return kvs[0];
}

const etcdLockPrefix = (key: string): string => `nest-locker/${encodeURIComponent(key)}/`;

/**
 * Faults an operator or a hung server makes: the server stops answering with every connection open; the lock's
 * key deleted from outside; (etcd) the lease behind it revoked. The first must not let two hold at once; the
 * others cannot be stopped by any lease lock, so the holder must be told within a renewal period.
 */
export const OPERATOR_SCENARIOS: FaultScenario[] = (['redis', 'etcd'] as const).flatMap((driver): FaultScenario[] => [
  {
    fault: 'server stops answering (SIGSTOP) past the TTL',
    driver,
    environment: () => singleServer(driver, WORKERS),
    async inject(run, environment) {
      const server = environment.server as Required<TestServer>;
      await run.nextHeld();
      run.markFault();
      server.pause();
      await sleep(TIMING[driver].ttl * 2);
      server.resume();
      await recovered(run, driver);
    },
  },
  {
    fault: "lock's key deleted by an operator",
    driver,
    environment: () => singleServer(driver, WORKERS),
    async inject(run: FaultRun, environment) {
      const held = await run.nextHeld();
      // marked as the command leaves: the holder may be told before the operator's client hears back
      const tamper = () => run.recordTampered(held.key, toldWithin(driver));
      await asOperator(environment, {
        redis: (client) => (tamper(), client.del(redisKeyNames('nest-locker:', held.key).lock)),
        etcd: (client) => (tamper(), client.delete().prefix(etcdLockPrefix(held.key)).exec()),
      });
      run.markFault();
      await recovered(run, driver);
    },
  },
  ...(driver === 'etcd'
    ? [
        {
          fault: "holder's lease revoked by an operator",
          driver,
          environment: () => singleServer(driver, WORKERS),
          async inject(run: FaultRun, environment: FaultEnvironment) {
            const held = await run.nextHeld();
            await asOperator(environment, {
              etcd: async (client) => {
                const entry = await etcdHolderEntry(client, held.key);
                run.recordTampered(held.key, toldWithin(driver));
                if (entry) await client.leaseClient.leaseRevoke({ ID: entry.lease });
              },
            });
            run.markFault();
            await recovered(run, driver);
          },
        },
      ]
    : []),
]);
