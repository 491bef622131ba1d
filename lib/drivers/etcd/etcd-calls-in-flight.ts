/*
 * Closing a grpc-js channel lets the calls on it run on until they end. On a silent etcd, a call made as
 * the app closed (a lease revoke, a waiter's look) kept its connection in use, and the process alive, until
 * its deadline: `command_timeout` after `app.close()` began.
 */

/** What of a grpc-js call this uses (public grpc-js API, typed here: grpc-js is etcd3's dependency, not ours). */
interface Call {
  start(metadata: unknown, listener?: Listener): void;
  cancelWithStatus(code: number, details: string): void;
}
interface Listener {
  onReceiveMetadata?(metadata: unknown): void;
  onReceiveMessage?(message: unknown): void;
  onReceiveStatus?(status: unknown): void;
}
/** A grpc-js client interceptor: `(options, nextCall) => call`. */
type Interceptor = (options: unknown, nextCall: (options: unknown) => Call) => Call;

/** grpc's CANCELLED status code. */
const CANCELLED = 1;

/** The calls of one etcd client that have not ended, so that closing the client ends them too. */
export class EtcdCallsInFlight {
  private readonly calls = new Set<Call>();

  /** For each call's options (etcd3's `defaultCallOptions`): records the call until its status arrives. */
  readonly interceptor: Interceptor = (options, nextCall) => {
    const call = nextCall(options);
    const start = call.start.bind(call);
    call.start = (metadata, listener) => {
      this.calls.add(call);
      start(metadata, {
        onReceiveMetadata: (received) => listener?.onReceiveMetadata?.(received),
        onReceiveMessage: (message) => listener?.onReceiveMessage?.(message),
        onReceiveStatus: (status) => {
          this.calls.delete(call);
          listener?.onReceiveStatus?.(status);
        },
      });
    };
    return call;
  };

  get size(): number {
    return this.calls.size;
  }

  /** Ends every call still running: each fails with CANCELLED. */
  cancelAll(details: string): void {
    for (const call of [...this.calls]) call.cancelWithStatus(CANCELLED, details);
    this.calls.clear();
  }
}
