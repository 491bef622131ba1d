import type { Backend } from '../contenders/contender';
import type { Column, RoundRow, Scenario } from '../scenarios/scenario';
import { median } from './stats';

/** One scenario's rounds: the rows each round produced, with that round's bare round trips. */
export interface ScenarioRuns {
  scenario: Scenario;
  rounds: { rows: RoundRow[]; rtt: Record<Backend, number> }[];
}

/** A column's value for one row in one round: the metric, or its ratio to the floor / round trip. */
function cell(column: Column, row: RoundRow, rows: RoundRow[], rtt: Record<Backend, number>): number {
  const value = row.metrics[column.metric];
  if (column.inRtts) return value / rtt[row.backend];
  if (!column.ratio) return value;
  const floor = rows.find((other) => other.isFloor && other.backend === row.backend)?.metrics[column.metric];
  if (floor === undefined) return NaN;
  return column.ratio === 'time' ? value / floor : floor / value;
}

/** Medians over rounds, by row and column label. */
export function medians(runs: ScenarioRuns): Map<string, Map<string, number>> {
  const table = new Map<string, Map<string, number>>();
  for (const { row } of runs.rounds[0]?.rows ?? []) {
    const columns = new Map<string, number>();
    for (const column of runs.scenario.columns) {
      const values = runs.rounds.map(({ rows, rtt }) => {
        const found = rows.find((candidate) => candidate.row === row);
        return found ? cell(column, found, rows, rtt) : NaN;
      });
      columns.set(column.label, values.every(Number.isNaN) ? NaN : median(values));
    }
    table.set(row, columns);
  }
  return table;
}

export function formatNumber(value: number, digits = 1): string {
  if (Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return '∞';
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function scenarioTable(runs: ScenarioRuns): string {
  const { scenario } = runs;
  const table = medians(runs);
  const lines = [
    `### ${scenario.title}`,
    '',
    scenario.about,
    '',
    `| | ${scenario.columns.map((column) => column.label).join(' | ')} |`,
    `|---|${scenario.columns.map(() => '---:').join('|')}|`,
  ];
  for (const [row, columns] of table) {
    const values = scenario.columns.map((column) => formatNumber(columns.get(column.label) as number, column.digits));
    lines.push(`| ${row} | ${values.join(' | ')} |`);
  }
  lines.push('', `_Medians of ${runs.rounds.length} round${runs.rounds.length > 1 ? 's' : ''}._`, '');
  return [...lines, ...perNodeTable(runs.rounds[0]?.rows ?? [])].join('\n');
}

/** Contention scenarios, first round: each node's acquisitions and wait p50 / p99 (ms), busiest node first. */
function perNodeTable(rows: RoundRow[]): string[] {
  const nodes = Math.max(0, ...rows.map((row) => row.perNode?.length ?? 0));
  if (nodes === 0) return [];
  const lines = [
    'Per node, first round: acquisitions · wait p50 / p99 ms (from asking to the reply), busiest first.',
    '',
    `| | ${Array.from({ length: nodes }, (_, i) => `node ${i + 1}`).join(' | ')} |`,
    `|---|${Array.from({ length: nodes }, () => '---:').join('|')}|`,
  ];
  for (const row of rows) {
    const cells = Array.from({ length: nodes }, (_, i) => {
      const node = row.perNode?.[i];
      return node ? `${node.acquisitions} · ${formatNumber(node.waitP50, 2)} / ${formatNumber(node.waitP99, 2)}` : '0';
    });
    lines.push(`| ${row.row} | ${cells.join(' | ')} |`);
  }
  return [...lines, ''];
}
