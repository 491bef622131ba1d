import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

// Compiled to dist/test/: the repository is two levels up.
const REPO = join(__dirname, '..', '..');
const { FILE_TIMEOUT_MS } = require(join(REPO, 'scripts', 'run-tests.js')) as { FILE_TIMEOUT_MS: number };

/** The TypeScript sources the specs run: test/ and the unit specs beside the code in lib/. */
function specSources(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && (dir.includes(join(REPO, 'test')) || name.endsWith('.spec.ts')))
        files.push(path);
    }
  };
  walk(join(REPO, 'test'));
  walk(join(REPO, 'lib'));
  return files;
}

/**
 * The runner (scripts/run-tests.js) cancels a spec file after FILE_TIMEOUT_MS. A spec that allows itself
 * longer, a test's `{ timeout }` or a child process's `timeout`, would be cut by the runner before its own
 * bound (as test/bench.spec's 240 s child was by a 120 s runner timeout), so every such bound must be below it.
 */
describe('the test runner and the specs agree on timeouts', () => {
  it("every timeout a spec sets itself is shorter than the runner's per-file timeout", () => {
    const bounds = specSources().flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\btimeout:\s*([0-9][0-9_]*)/g)].map((match) => ({
        at: relative(REPO, file),
        ms: Number(match[1].replace(/_/g, '')),
      })),
    );
    assert.ok(
      bounds.some((bound) => bound.at === join('test', 'bench.spec.ts')),
      'found the bench child timeout: is the scan broken?',
    );
    const tooLong = bounds.filter((bound) => bound.ms >= FILE_TIMEOUT_MS);
    assert.deepEqual(tooLong, [], `the runner would cancel these before their own timeout (${FILE_TIMEOUT_MS} ms per file)`);
  });
});
