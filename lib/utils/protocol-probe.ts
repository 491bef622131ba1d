import { connect as connectPlain, Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/*
 * After a connection failed at bootstrap, one more short connection tells whether the port speaks TLS or
 * plain text: a TLS client to a plain server and a plain client to a TLS server otherwise only see a
 * reset, a close or nothing at all, which names no cause.
 */

export interface ProbeAddress {
  host: string;
  port: number;
}

/** A plain request the server answers, and how to recognise its answer. */
export interface PlainProtocol {
  /** What it is called in an error message, e.g. "redis". */
  name: string;
  request: string;
  answers(reply: string): boolean;
}

/**
 * Does the server at `address` speak TLS: finish a handshake (without verifying anything), or answer ours
 * with a TLS alert? False on anything else, or no answer within `ms`.
 */
export function speaksTls(address: ProbeAddress, ms: number): Promise<boolean> {
  return settleProbe(ms, (finish) => {
    const socket = connectTls({ ...address, rejectUnauthorized: false });
    socket.once('secureConnect', () => finish(socket, true));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(socket, /alert/i.test(error.message)));
    return socket;
  });
}

/** Does the server at `address` answer `protocol`'s plain request as that protocol does, within `ms`? */
export function answersPlain(address: ProbeAddress, protocol: PlainProtocol, ms: number): Promise<boolean> {
  return settleProbe(ms, (finish) => {
    const socket = connectPlain(address, () => socket.write(protocol.request));
    let reply = '';
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (protocol.answers(reply)) finish(socket, true);
    });
    socket.once('error', () => finish(socket, false));
    socket.once('close', () => finish(socket, protocol.answers(reply)));
    return socket;
  });
}

/** Runs one probe: its answer, or false after `ms`; its socket is destroyed either way. */
function settleProbe(ms: number, start: (finish: (socket: Socket, answer: boolean) => void) => Socket): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (socket: Socket, answer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const socket = start(finish);
    const timer = setTimeout(() => finish(socket, false), ms);
  });
}
