import type { Socket } from 'node:net';

/**
 * Closes a socket the way a crashed peer would: with a reset (RST). A socket whose side was ended
 * (`end()`, also done for us when the peer half-closes) is only destroyed: while its shutdown is in flight,
 * Node 20 cannot reset it (uv_tcp_close_reset refuses), yet marks it closing, and the process then spins
 * at exit, never ending. Such a connection was being closed by its peer anyway.
 */
export function resetSocket(socket: Socket): void {
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}
