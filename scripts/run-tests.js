// Runs every compiled spec (unit specs beside the code in lib/, integration and e2e in test/) with
// node's own test runner. Each file starts the servers it needs on free loopback ports.
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const roots = ['dist/lib', 'dist/test'];
const specs = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.spec.js')) specs.push(path);
  }
};
roots.forEach(walk);
const only = process.argv[2];
const selected = only ? specs.filter((path) => path.includes(only)) : specs;

const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-timeout=120000', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...selected],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
