// A node:test reporter for scripts/run-tests.js: once the run ends, the spec files that took longest (the sum
// of their top-level tests' durations, setup included) and the run's wall time, so a slow suite shows where.
const SHOWN = 12;

export default async function* specTimes(source) {
  const started = Date.now();
  const byFile = new Map();
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      // where the suite is defined: a spec file, or a helper that defines suites for several (then named too)
      const file = event.data.file.replace(/^.*?[\\/]dist[\\/]/, 'dist/');
      const where = file.endsWith('.spec.js') ? file : `${file}: ${event.data.name}`;
      byFile.set(where, (byFile.get(where) ?? 0) + (event.data.details?.duration_ms ?? 0));
    }
  }
  const slowest = [...byFile].sort((a, b) => b[1] - a[1]).slice(0, SHOWN);
  const minutes = (ms) => `${(ms / 60_000).toFixed(2)} min`;
  yield `\nspec files that took longest (of ${byFile.size}):\n`;
  for (const [file, ms] of slowest) yield `  ${minutes(ms).padStart(9)}  ${file}\n`;
  yield `wall time of the specs: ${minutes(Date.now() - started)}\n`;
}
