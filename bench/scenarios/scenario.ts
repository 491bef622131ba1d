import { CONTENDERS } from '../contenders';
import type { Backend, BenchServers, Contender } from '../contenders/contender';
import type { ServerInspector } from './server-inspector';

/** Named numbers of one row in one round; NaN = does not apply. */
export type Metrics = Record<string, number>;

export interface RoundRow {
  row: string;
  backend: Backend;
  /** The backend's hand-written floor: ratio columns divide by it. */
  isFloor?: boolean;
  metrics: Metrics;
  /** Handoff waits (ms), for the chart. */
  samples?: number[];
  /** Contention scenarios: how each node (or worker) fared, busiest first. */
  perNode?: NodeShare[];
}

/** One node's share of a hot key: how often it took it, and how long it waited to (from asking to the reply). */
export interface NodeShare {
  acquisitions: number;
  waitP50: number;
  waitP99: number;
}

export interface BenchContext {
  servers: BenchServers;
  inspector: ServerInspector;
  /** How long each contender runs in a timed scenario. */
  seconds: number;
  /** Sizes for the many-keys scenario. */
  manyKeys: number[];
  /** Bare round trip (p50, ms) per backend, measured at the start of the round. */
  rtt: Record<Backend, number>;
}

/**
 * How a metric is shown: as is, as a ratio to the floor's value in the same round ('time': ours / floor,
 * 'rate': floor / ours, so above 1 is always slower), or in bare round trips of the same round.
 */
export interface Column {
  metric: string;
  label: string;
  digits?: number;
  ratio?: 'time' | 'rate';
  inRtts?: boolean;
}

/** What one contender's run yields; `eachContender` names the row. */
export type Measured = Pick<RoundRow, 'metrics' | 'samples' | 'perNode'>;

/**
 * Measures each contender in turn (never two at once: they share the machine), one row each. BENCH_CONTENDERS
 * (comma-separated parts of ids, e.g. `etcd`) keeps only the contenders whose id contains one of them.
 */
export async function eachContender(measure: (contender: Contender) => Promise<Measured>): Promise<RoundRow[]> {
  const rows: RoundRow[] = [];
  for (const contender of CONTENDERS) {
    if (!contenderSelected(contender.id)) continue;
    rows.push({ row: contender.id, backend: contender.backend, isFloor: contender.floor, ...(await measure(contender)) });
  }
  return rows;
}

/** Whether BENCH_CONTENDERS (comma-separated parts of ids; unset: all) keeps the contender `id`. */
export function contenderSelected(id: string): boolean {
  const only = process.env.BENCH_CONTENDERS?.split(',').filter((part) => part !== '');
  return !only?.length || only.some((part) => id.includes(part));
}

export interface Scenario {
  id: string;
  title: string;
  /** What it does and how to read it, one paragraph for the report. */
  about: string;
  columns: Column[];
  /** 1: expensive, run in the first round only. */
  rounds?: 1;
  runRound(context: BenchContext): Promise<RoundRow[]>;
}
