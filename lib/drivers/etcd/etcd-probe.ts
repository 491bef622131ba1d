import type { Etcd3 } from 'etcd3';

/** A key no lock uses: reading it only proves that the server answers. */
const PROBE_KEY = 'nest-locker-probe';

/**
 * One linearizable read (it needs a leader, so a cluster without quorum fails it), through the KV path that
 * locks take. A user whose role covers only the lock prefix is refused it: a refusal is an answer too.
 */
export async function probeEtcd(client: Etcd3): Promise<void> {
  await client
    .get(PROBE_KEY)
    .exec()
    .catch((error: unknown) => {
      if (!(error instanceof Error && /permission denied/i.test(error.message))) throw error;
    });
}
