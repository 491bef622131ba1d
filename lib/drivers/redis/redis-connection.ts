import { CONNECTION_DEFAULTS } from '../../config/connection-defaults';
import type { Cluster, Command, Redis } from 'ioredis';
import { SHUTDOWN_CLOSE_MS } from '../../locker.constants';
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

/**
 * ioredis' `disconnectTimeout` for the connections nest-locker opens: how long a socket it is closing may
 * take to end before it is destroyed. Its default, 2 s, is also spent on a socket that had already closed
 * (a server that went away): ioredis then waits for a 'close' that came before, and the process lived 2 s on.
 */
export const DISCONNECT_TIMEOUT_MS = 100;

/**
 * The longest a QUIT is waited for. A server that answers does so in a moment; one that does not must not
 * hold the process past `app.close()`, which gives closing the connections SHUTDOWN_CLOSE_MS: the wait
 * (with the command's timer) went on in the background, up to `command_timeout`, after close returned.
 */
const QUIT_WAIT_MS = SHUTDOWN_CLOSE_MS / 2;

/**
 * QUIT, waited for up to `ms` (at most QUIT_WAIT_MS); then a disconnect, which fails whatever the
 * connection stranded. A QUIT can "succeed" without reaching the server: ioredis answers it itself on a
 * connection waiting to reconnect, and leaves that connection stuck there.
 */
export async function quitWithin(connection: Redis | Cluster, ms: number): Promise<void> {
  await settleWithin(connection.quit(), Math.min(ms, QUIT_WAIT_MS));
  disconnectNow(connection);
}

/** What of an ioredis connection's queues `disconnectNow` reads (internals): items carry their command. */
interface QueuedCommands {
  toArray(): { command: Command }[];
}
interface ConnectionQueues {
  offlineQueue?: QueuedCommands;
  commandQueue?: QueuedCommands;
  /** The commands of a connection that dropped while ready, kept to be sent again once it reconnects. */
  prevCommandQueue?: QueuedCommands | null;
}

/**
 * Per connection nest-locker opened: the single server whose queues `disconnectNow` reads, and the commands
 * recorded because they may be in none of them (swept from time to time).
 */
const sentOn = new WeakMap<Redis | Cluster, { queuesOf?: Redis; recorded: Set<Command>; sweepAt: number }>();
const FIRST_SWEEP_AT = 256;

/**
 * Makes `disconnectNow` fail at once every command sent on `connection` (on each node of a cluster) that
 * has no answer yet. ioredis (6.0 and before) strands some when a connection closes: those queued while it
 * waits to reconnect are never failed by a disconnect then (redis/ioredis#1247), and those of a connection
 * that closed before it was ready are dropped at the next connect. Each keeps its `commandTimeout` timer,
 * and with it the process, alive up to `command_timeout` after `app.close()`.
 *
 * On a single server that sends unanswered commands again after a reconnect (ioredis' default), a command
 * sent while it is ready stays in one of its queues until answered, where `disconnectNow` finds it: only
 * those sent while it is not are recorded (a record of every command cost a lock cycle more than its own
 * code). A cluster retries a failed command from delays and a queue of its own, and a connection that does
 * not resend drops them at the reconnect: there every command is recorded.
 */
export function failStrandedOnDisconnect<T extends Redis | Cluster>(connection: T): T {
  const single = connection.isCluster ? undefined : (connection as Redis);
  const queuesOf = single?.options.autoResendUnfulfilledCommands === false ? undefined : single;
  const sent = { queuesOf, recorded: new Set<Command>(), sweepAt: FIRST_SWEEP_AT };
  sentOn.set(connection, sent);
  const track = (server: Redis) => {
    const send = server.sendCommand.bind(server);
    server.sendCommand = (command, stream) => {
      if (server !== queuesOf || server.status !== 'ready') {
        if (sent.recorded.size >= sent.sweepAt) {
          for (const earlier of sent.recorded) if (earlier.isSettled) sent.recorded.delete(earlier);
          sent.sweepAt = Math.max(FIRST_SWEEP_AT, 2 * sent.recorded.size);
        }
        sent.recorded.add(command);
      }
      return send(command, stream);
    };
  };
  if (connection.isCluster) {
    const cluster = connection as Cluster;
    cluster.nodes('all').forEach(track);
    cluster.on('+node', track);
  } else track(connection as Redis);
  return connection;
}

/** Every command `server` holds without an answer: queued offline, sent, or kept to be sent again. */
function unanswered(server: Redis): Command[] {
  const { offlineQueue, commandQueue, prevCommandQueue } = server as unknown as ConnectionQueues;
  return [offlineQueue, commandQueue, prevCommandQueue].flatMap((queue) => queue?.toArray().map((item) => item.command) ?? []);
}

/** Disconnects, and fails every command still waiting for an answer on it (see `failStrandedOnDisconnect`). */
export function disconnectNow(connection: Redis | Cluster): void {
  if (connection.status !== 'end') connection.disconnect();
  const sent = sentOn.get(connection);
  if (!sent) return;
  const commands = sent.queuesOf ? [...sent.recorded, ...unanswered(sent.queuesOf)] : sent.recorded;
  for (const command of commands) if (!command.isSettled) command.reject(new Error('Connection is closed.'));
}
