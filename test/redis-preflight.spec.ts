import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LockerConfig } from 'nest-locker';
import { aclUserAccess, BASELINE_RULES, documentedAclRules } from './harness/redis-acl';
import { startRedis, TestServer } from './harness/servers';
import type { LogEntry } from './src/logged-app';

/** Runs test/src/logged-app in its own process: its Nest log entries, and anything else it printed. */
function runLoggedApp(config: LockerConfig): Promise<{ logs: LogEntry[]; noise: string }> {
  const child = spawn(process.execPath, [join(__dirname, 'src', 'logged-app.js'), JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`logged app exited with ${code}: ${err}`));
      const lines = out.trimEnd().split('\n');
      const logs = JSON.parse(lines.pop() as string) as LogEntry[];
      resolve({ logs, noise: [...lines, err].join('\n').trim() });
    });
  });
}

const config = (redis: Record<string, unknown>): LockerConfig => ({ redis, locker: { driver: 'redis', driver_instance_id: 'redis' } });
const evictionWarnings = (logs: LogEntry[]) => logs.filter((entry) => entry.level === 'warn' && /maxmemory-policy/.test(entry.message));

describe('redis preflight at bootstrap: the eviction policy, and a quiet console', () => {
  let evicting: TestServer; // allkeys-lru, with ACL users that may not run INFO or CONFIG
  let safe: TestServer; // noeviction (redis' default)
  const exact = aclUserAccess(documentedAclRules());
  const baseline = aclUserAccess(BASELINE_RULES);
  before(async () => {
    const users = (access: typeof exact, name: string) => (access.server?.args ?? []).map((arg) => (arg === 'nest-locker' ? name : arg));
    [evicting, safe] = await Promise.all([
      startRedis({ args: ['--maxmemory-policy', 'allkeys-lru', ...users(exact, 'exact'), ...users(baseline, 'baseline')] }),
      startRedis(),
    ]);
  });
  after(async () => Promise.all([evicting?.stop(), safe?.stop()]));

  it('warns through the Nest logger when maxmemory-policy can evict a held lock, naming it and noeviction', async () => {
    const { logs, noise } = await runLoggedApp(config({ addr: evicting.addr }));
    const warnings = evictionWarnings(logs);
    assert.equal(warnings.length, 2, 'once per app'); // the logged app starts two
    assert.match(warnings[0].message, /\[redis\] the redis server's maxmemory-policy is "allkeys-lru"/);
    assert.match(warnings[0].message, /evict a held lock/);
    assert.match(warnings[0].message, /"noeviction"/);
    assert.equal(noise, '');
  });

  it('says nothing with noeviction', async () => {
    const { logs, noise } = await runLoggedApp(config({ addr: safe.addr }));
    assert.deepEqual(evictionWarnings(logs), []);
    assert.equal(noise, '');
  });

  for (const [name, access] of [
    ['the exact-commands ACL user of docs/production.md', exact],
    ['an ACL user with +@all -@dangerous', baseline],
  ] as const) {
    it(`as ${name} (no INFO, no CONFIG): skips the check quietly, and nothing reaches the console outside the Nest logger`, async () => {
      const user = name.startsWith('the exact-commands') ? 'exact' : 'baseline';
      const { logs, noise } = await runLoggedApp(config({ addr: evicting.addr, ...access.connection, username: user }));
      assert.deepEqual(evictionWarnings(logs), []);
      assert.equal(noise, '', 'nothing printed outside the Nest logger');
      assert.deepEqual(
        logs.filter((entry) => entry.level === 'warn' || entry.level === 'error'),
        [],
      );
    });
  }
});
