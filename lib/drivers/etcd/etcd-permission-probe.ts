import { Logger } from '@nestjs/common';
import type { Etcd3 } from 'etcd3';
import { LockerConfigError } from '../../errors';
import type { LockerDriver } from '../../interfaces/locker-driver.interface';
import { awaitProbe, probeKey, probeLockPath } from '../permission-probe';
import type { EtcdRefusals } from './etcd-permission-error';

/** What the etcd probe needs of the driver it checks. */
export interface EtcdProbeTarget {
  /** A copy of the driver on the same client that tells no one of its locks; closed by the probe. */
  copy: LockerDriver;
  client: Etcd3;
  refusals: EtcdRefusals;
  /** The probe's budget, and each call's deadline. */
  commandTimeout: number;
}

const logger = new Logger('EtcdLockDriver');

/**
 * Bootstrap's check that the user's role covers what locks under `keyPrefix` need: a read under the prefix
 * (what waiters' reads and watches need), then one lock through every step (see probeLockPath) on a copy of
 * the driver, which writes, leases and deletes. A denial rejects with the LockerConfigError that names the
 * access to grant. Nothing stays: the probe deletes its entries, and its copy revokes its lease when closed.
 */
export async function probeEtcdPermissions(target: EtcdProbeTarget, keyPrefix: string): Promise<void> {
  const { client, refusals } = target;
  const key = probeKey();
  const checking = (async () => {
    try {
      await client
        .get(`${keyPrefix}${key}`)
        .exec()
        .catch((error: unknown) => {
          throw refusals.explain(error, keyPrefix, 'read');
        });
      // reads passed: a denial now is of a write (the copy's own explanation cannot tell which)
      await probeLockPath(target.copy, keyPrefix, key, target.commandTimeout).catch((error: unknown) => {
        throw error instanceof LockerConfigError ? refusals.explain(error.cause, keyPrefix, 'write') : error;
      });
    } finally {
      await target.copy.close();
    }
  })();
  await awaitProbe(
    checking,
    target.commandTimeout,
    `[${target.copy.instanceId}] the etcd permissions for key_prefix "${keyPrefix}"`,
    logger,
  );
}
