import type { Backend, BenchServers } from '../contenders/contender';
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
