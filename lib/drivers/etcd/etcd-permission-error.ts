import { LockerConfigError } from '../../errors';

/** etcd's answer when the user's roles do not cover a key (etcd3's EtcdPermissionDeniedError, gRPC code 7). */
export const isPermissionDenied = (error: unknown): boolean =>
  error instanceof Error && /permission denied|PERMISSION_DENIED/i.test(error.message);

/**
 * Turns etcd's "permission denied" into a LockerConfigError that says what the user's role must grant. etcd
 * has no permission of its own for leases (any user may grant and keep one alive; revoking one needs write on
 * its keys), so read and write on the key prefix is all the driver needs. `owned`: the section opened the
 * client (`username`), else it is the app's (`client`).
 */
export class EtcdRefusals {
  constructor(
    private readonly section: string,
    private readonly owned: boolean,
  ) {}

  /**
   * `error` as a LockerConfigError when etcd denied it, else `error` itself. One denial does not say whether
   * the read or the write of a transaction was refused: `access` says what is known.
   */
  explain(error: unknown, keyPrefix: string, access = 'read and write'): unknown {
    if (!isPermissionDenied(error)) return error;
    return new LockerConfigError({
      section: this.section,
      field: this.owned ? 'username' : 'client',
      message:
        `etcd denied the user permission to ${access} keys under key_prefix "${keyPrefix}", which its locks need; grant its ` +
        `role readwrite on the prefix (etcdctl role grant-permission <role> readwrite --prefix=true ${keyPrefix}); ` +
        `docs/production.md shows the whole setup (etcd said: ${(error as Error).message})`,
      cause: error,
    });
  }
}
