/** What a `[redis]` or `[etcd]` connection section that does not say takes, for every driver alike. */
export const CONNECTION_DEFAULTS: Readonly<{ connectTimeout: number; commandTimeout: number }> = {
  /** `connect_timeout`: ms to reach the server at startup. */
  connectTimeout: 5_000,
  /** `command_timeout`: ms each server call may wait for its answer (also assumed for an app's own client). */
  commandTimeout: 5_000,
};
