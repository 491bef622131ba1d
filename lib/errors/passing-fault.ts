/**
 * Redis replies that mean the server is busy with a passing state (loading its data, a failover, a cluster
 * resharding or without a majority), not that the command is wrong: worth a retry like a lost connection.
 */
const PASSING_REPLY = /^(LOADING|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MOVED|ASK|BUSY)\b/;

/** etcd3's errors for a call that may well succeed once a member answers (its other gRPC errors are final). */
const PASSING_GRPC = new Set([
  'GRPCUnavailableError',
  'GRPCDeadlineExceededError',
  'GRPCConnectFailedError',
  'GRPCCancelledError',
  'GRPCInternalError',
  'GRPCResourceExhastedError',
  'GRPCAbortedError',
  'GRPCUnknownError',
]);

/** Errors of the program itself: a retry would fail the same way. */
const PROGRAM_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

/**
 * Whether a client's `error` may pass if asked again: a connection lost or refused, a call not answered in
 * time, a server in a failover. An error the server answered to the command itself (a script error, a key of
 * the wrong type, an invalid argument) and an error of the program are final: a waiting acquire that asked
 * again would fail the same way until its deadline (or for ever, without one).
 */
export function isPassingFault(error: unknown): boolean {
  const name = (error as Error | undefined)?.name ?? '';
  if (PROGRAM_ERRORS.has(name)) return false;
  if (name === 'ReplyError') return PASSING_REPLY.test((error as Error).message);
  // etcd3's errors keep Error's name; their class tells them apart
  const type = (error as object | undefined)?.constructor?.name ?? '';
  if (type.startsWith('GRPC')) return PASSING_GRPC.has(type);
  return true; // transport errors have many shapes (ECONNRESET, "Connection is closed.", our deadlines): all pass
}
