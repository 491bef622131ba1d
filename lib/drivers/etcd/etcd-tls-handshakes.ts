import type { Socket } from 'node:net';
import type { Etcd3 } from 'etcd3';

/*
 * grpc-js (to 1.14 at least) puts no deadline on a TLS handshake and cannot cancel one: closing the
 * channel leaves it be. An endpoint that accepts the connection and never answers (a hung server, a proxy
 * in front of one) thus kept a socket open, and with it the process alive, without end: after a failed
 * bootstrap and after `app.close()` alike.
 */

/** What of grpc-js this wraps: the credentials' maker of connectors, which run the handshake on each new socket. */
interface SecureConnector {
  connect(socket: Socket): Promise<unknown>;
  destroy(): void;
}
interface ChannelCredentials {
  _isSecure(): boolean;
  _createSecureConnector(...args: unknown[]): SecureConnector;
}
/** What of etcd3's client this reads (internals): the credentials its hosts' channels are made with. */
interface ClientInternals {
  pool?: { hosts?: { channelCredentials?: ChannelCredentials }[] };
}

/** The handshake got no answer in time: the socket is destroyed with this (grpc-js reports it as the last error). */
export class TlsHandshakeTimeout extends Error {
  constructor(ms: number) {
    super(`TLS handshake: no answer within ${ms} ms (the server accepted the connection but never answered)`);
    this.name = 'TlsHandshakeTimeout';
  }
}

/**
 * Gives each TLS handshake of `client` at most `timeoutMs` (then it fails, and grpc-js tries again later,
 * as after a refused connection). `closed()`, once the client is closed, ends those in flight and fails any
 * started later. A no-op on a plain client, or should etcd3's internals have changed (then nothing is bounded).
 */
export function boundTlsHandshakes(client: Etcd3, timeoutMs: number): { closed(): void } {
  const handshakes: Handshakes = { inFlight: new Map(), closed: false };
  const credentials = new Set((client as unknown as ClientInternals).pool?.hosts?.map((host) => host.channelCredentials));
  for (const each of credentials) {
    if (!each?._isSecure()) continue;
    const create = each._createSecureConnector.bind(each);
    each._createSecureConnector = (...args) => boundConnector(create(...args), timeoutMs, handshakes);
  }
  return {
    closed() {
      // etcd3 gives a channel still connecting up to 1 s to close: it would start handshakes meanwhile
      handshakes.closed = true;
      for (const fail of handshakes.inFlight.values()) fail(new Error('TLS handshake: the client closed'));
    },
  };
}

/** A client's handshakes under way (each with what fails it), and whether it closed. */
interface Handshakes {
  inFlight: Map<Socket, (error: Error) => void>;
  closed: boolean;
}

function boundConnector(connector: SecureConnector, timeoutMs: number, handshakes: Handshakes): SecureConnector {
  const connect = connector.connect.bind(connector);
  connector.connect = (socket) => {
    let fail = (error: Error): void => void error;
    // the handshake's own promise may never settle once its socket is gone: grpc-js is answered from here
    const failed = new Promise<never>((_, reject) => {
      fail = (error) => {
        socket.destroy();
        reject(error);
      };
    });
    if (handshakes.closed) {
      fail(new Error('TLS handshake: the client closed'));
      return failed;
    }
    const timer = setTimeout(() => fail(new TlsHandshakeTimeout(timeoutMs)), timeoutMs);
    handshakes.inFlight.set(socket, fail);
    return Promise.race([connect(socket), failed]).finally(() => {
      clearTimeout(timer);
      handshakes.inFlight.delete(socket);
    });
  };
  return connector;
}
