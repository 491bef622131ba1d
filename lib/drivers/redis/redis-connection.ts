import { CONNECTION_DEFAULTS } from '../../config/connection-defaults';
import type { Cluster, Redis } from 'ioredis';
import { settleWithin } from '../../utils/settle-within';

/** `command_timeout`'s default: also the deadline assumed for a client given without one. */
export const DEFAULT_COMMAND_TIMEOUT_MS = CONNECTION_DEFAULTS.commandTimeout;

/** The deadline ioredis puts on each command of `client` (a Cluster's is in its nodes' options), if any. */
export function ownCommandTimeout(client: Redis | Cluster): number | undefined {
  const options = client.isCluster ? (client as Cluster).options.redisOptions : (client as Redis).options;
  return options?.commandTimeout;
}

/** The deadline of `client`'s commands, or the one the driver assumes for a client given without one. */
export const commandTimeoutOf = (client: Redis | Cluster): number => ownCommandTimeout(client) ?? DEFAULT_COMMAND_TIMEOUT_MS;

/** ioredis gave up waiting for the answer (`commandTimeout`): the server may not have run it, or may still. */
export const isCommandTimeout = (error: unknown): boolean => error instanceof Error && error.message === 'Command timed out';

/** QUIT, or a plain disconnect if the server does not answer it within `ms` (or refuses it). */
export async function quitWithin(connection: Redis | Cluster, ms: number): Promise<void> {
  const quitting = connection.quit().catch(() => connection.disconnect());
  if (!(await settleWithin(quitting, ms))) connection.disconnect();
}
