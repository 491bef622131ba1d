/**
 * `npm run test:faults`: the whole fault matrix, FAULT_RUNS runs per row (default 3), printed as a table.
 * FAULT_ONLY=<text> keeps the rows whose fault or driver contains it. Exits 1 on any violation, or if
 * the control did not show one.
 */
import { formatFaultTable, FaultRow, runScenario } from './matrix';
import { ALL_SCENARIOS } from './all-scenarios';

async function main(): Promise<void> {
  const runs = Number(process.env.FAULT_RUNS ?? 3);
  const only = process.env.FAULT_ONLY;
  const scenarios = ALL_SCENARIOS.filter((s) => !only || `${s.fault} ${s.driver}`.includes(only));
  const rows: FaultRow[] = [];
  for (const scenario of scenarios) {
    const started = Date.now();
    const row = await runScenario(scenario, runs);
    rows.push(row);
    process.stderr.write(
      `[faults] ${scenario.driver} / ${scenario.fault}: ${row.violations.length} violations, ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }
  process.stdout.write(`${formatFaultTable(rows)}\n`);
  const failed = rows.filter((row) => (row.control ? row.violations.length === 0 : row.violations.length > 0));
  if (failed.length > 0) {
    process.stderr.write(`[faults] FAILED: ${failed.map((row) => `${row.driver} / ${row.fault}`).join('; ')}\n`);
    process.exit(1);
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
