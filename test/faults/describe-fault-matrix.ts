import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { FaultRow, formatFaultTable, runScenario } from './matrix';
import type { FaultScenario } from './scenarios';

/**
 * The fault matrix as tests: one run per row (FAULT_RUNS to change it). Every row must show no
 * violation, the control must show some, and a paused holder's stale write must be refused by the fence.
 */
export function describeFaultMatrix(title: string, scenarios: FaultScenario[]): void {
  const runs = Number(process.env.FAULT_RUNS ?? 1);
  const rows: FaultRow[] = [];
  describe(title, { concurrency: 1 }, () => {
    for (const scenario of scenarios) {
      it(`${scenario.driver}: ${scenario.fault}`, { timeout: 240_000 }, async () => {
        const row = await runScenario(scenario, runs);
        rows.push(row);
        const details = formatFaultTable([row]);
        if (scenario.control) assert.ok(row.violations.length > 0, `the checker found nothing wrong with the broken lock:\n${details}`);
        else assert.deepEqual(row.violations, [], details);
        assert.ok(row.acquisitions > runs * 3, `too few acquisitions to judge:\n${details}`);
        if (scenario.staleWriteExpected) {
          assert.ok(row.refusedFencedWrites > 0, `the paused holder's stale write never reached the fence:\n${details}`);
          assert.ok(row.staleUnfencedWrites > 0, `the unfenced resource took no stale write:\n${details}`);
        }
        if (!scenario.control) assert.notEqual(row.recoverMs.max, undefined, `no acquisition after the fault:\n${details}`);
      });
    }
    it('prints the table, one line for every row, none missing', () => {
      const table = formatFaultTable(rows);
      console.log(`\n${table}\n`);
      const missing = scenarios.filter((scenario) => !rows.some((row) => row.fault === scenario.fault && row.driver === scenario.driver));
      assert.deepEqual(
        missing.map((scenario) => `${scenario.driver}: ${scenario.fault}`),
        [],
        'rows whose run ended without a result',
      );
      for (const row of rows) assert.ok(table.includes(`| ${row.fault} | ${row.driver} |`), `${row.driver}: ${row.fault} is in the table`);
    });
  });
}
