import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { redisKeyNames } from '../../lib/drivers/redis/redis-key-names';
import type { FaultDriver } from './environments';
import { singleServer } from './environments';
import { recovered, SINGLE_SERVER_SCENARIOS, TIMING, WORKERS, FaultScenario, LockUnderTest } from './scenarios';

/** The kinds that share a key, as a run uses them: three workers on a permit of limit 2, or a writer and two readers. */
const KINDS: { name: string; lock: LockUnderTest; namespace: 'permit' | 'rw' }[] = [
  { name: 'permits (limit 2)', lock: { kind: 'permit', limit: 2 }, namespace: 'permit' },
  { name: 'read/write', lock: { kind: 'rw' }, namespace: 'rw' },
];

/** The single-server faults that each kind runs through, by their name in SINGLE_SERVER_SCENARIOS. */
const FAULTS = ['holder SIGSTOPped past its TTL', 'server restarted, holder and waiters on it', 'connection cut mid-renewal'];

/** How soon a holder whose hold was taken on the server must be told: see operator-scenarios. */
const toldWithin = (driver: FaultDriver): number => Math.round((TIMING[driver].ttl * 2) / 3) + 300;

/**
 * Deletes every holder of the key from outside, as an operator's shell would; `tamper` marks the moment the
 * command leaves (a reader that joins while the operator's client connects holds a lock of its own).
 */
async function deleteHolders(
  driver: FaultDriver,
  addr: string,
  key: string,
  namespace: 'permit' | 'rw',
  tamper: () => void,
): Promise<void> {
  if (driver === 'redis') {
    const [host, port] = addr.split(':');
    const client = new Redis({ host, port: Number(port), maxRetriesPerRequest: 1 });
    const names = redisKeyNames('nest-locker:', key, namespace);
    try {
      await client.ping();
      tamper();
      await client.del(names.lock, names.holders);
    } finally {
      client.disconnect();
    }
  } else {
    const client = new Etcd3({ hosts: `http://${addr}` });
    try {
      await client.get('nest-locker/connected');
      tamper();
      await client
        .delete()
        .prefix(`nest-locker/${namespace}:${encodeURIComponent(key)}/`)
        .exec();
    } finally {
      client.close();
    }
  }
}

/**
 * Permits and read/write locks through the faults the mutex meets: a holder paused past its TTL, a server
 * restart, a connection cut, the holders deleted by an operator. The checker judges them by their kind's rule
 * (at most `limit`; readers or one writer); the control, a semaphore that counts then adds, must fail it.
 */
export const KIND_SCENARIOS: FaultScenario[] = (['redis', 'etcd'] as const).flatMap((driver) =>
  KINDS.flatMap(({ name, lock, namespace }): FaultScenario[] => [
    ...SINGLE_SERVER_SCENARIOS.filter((scenario) => scenario.driver === driver && FAULTS.includes(scenario.fault)).map((scenario) => ({
      ...scenario,
      fault: `${name}: ${scenario.fault}`,
      lock,
    })),
    {
      fault: `${name}: holders deleted by an operator`,
      driver,
      lock,
      environment: () => singleServer(driver, WORKERS),
      async inject(run, environment) {
        const held = await run.nextHeld();
        await deleteHolders(driver, environment.server?.addr as string, held.key, namespace, () =>
          run.recordTampered(held.key, toldWithin(driver)),
        );
        run.markFault();
        await recovered(run, driver);
      },
    },
  ]),
);

/** The control: a broken semaphore. The checker must find more than `limit` holders at once. */
export const KIND_CONTROL_SCENARIO: FaultScenario = {
  fault: 'control: a broken semaphore (count-then-add)',
  driver: 'redis',
  control: true,
  lock: { kind: 'permit', limit: 2 },
  environment: () => singleServer('redis', WORKERS),
  inject: (run) => run.acquisitions(30, 20_000),
};
