import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { claimPort, freePort } from './free-port';

/** Runs `claimPort(port)` in another process; `then` 'exit' lets it end normally, 'kill' SIGKILLs it after the claim. */
function claimElsewhere(port: number, then: 'exit' | 'kill'): string {
  const script = `const { claimPort } = require(${JSON.stringify(join(__dirname, 'free-port.js'))});
process.stdout.write(String(claimPort(${port})));
${then === 'kill' ? "process.kill(process.pid, 'SIGKILL');" : ''}`;
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' }).stdout;
}

describe('freePort across the spec processes of one run', () => {
  it('never hands a port given to a live process to another, even while no server listens on it (a restart)', async () => {
    const port = await freePort(); // nothing listens on it: as while its server is down for a restart
    assert.equal(claimElsewhere(port, 'exit'), 'false');
  });

  it('hands out again a port whose process died without giving it back', async () => {
    const port = await freePort();
    const other = port + 1; // claimed by a process that is then SIGKILLed (its claim stays behind)
    assert.equal(claimElsewhere(other, 'kill'), 'true');
    assert.equal(claimPort(other), true);
  });
});
