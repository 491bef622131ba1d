import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/** A process that accepts one connection, closes it with `resetSocket` (after `end()` when asked), then lets the loop drain. */
const script = (endFirst: boolean) => `
  const net = require('node:net');
  const { resetSocket } = require(${JSON.stringify(join(__dirname, 'reset-socket.js'))});
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    ${endFirst ? 'socket.end();' : ''}
    resetSocket(socket);
    server.close();
  });
  server.listen(0, '127.0.0.1', () => {
    const client = net.connect(server.address().port, '127.0.0.1');
    client.on('error', (error) => console.log('client error ' + error.code));
    client.on('close', () => console.log('client closed'));
  });
`;

/** What the process printed, and its exit code; `null` if it had not ended after `boundMs` (then it is killed). */
async function run(source: string, boundMs: number): Promise<{ output: string; code: number | null }> {
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  // a child spinning at exit must not outlive this test, even if the runner stops it first
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), boundMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(killer);
  process.off('exit', killChild);
  return { output, code };
}

describe('resetSocket (the fault proxy closing a connection like a crashed peer)', () => {
  it('resets an open connection: the peer sees ECONNRESET', async () => {
    const { output, code } = await run(script(false), 10_000);
    assert.equal(code, 0, 'the process ended');
    assert.match(output, /client error ECONNRESET/);
  });

  it('lets the process exit when its side was already shut down (Node 20 spins at exit on a reset after end())', async () => {
    const { output, code } = await run(script(true), 10_000);
    assert.equal(code, 0, `the process ended by itself (output: ${JSON.stringify(output)})`);
    assert.match(output, /client closed/);
  });
});
