import { FaultScenario, SINGLE_SERVER_SCENARIOS } from './scenarios';

/**
 * The single-server faults an election meets, each under its name in SINGLE_SERVER_SCENARIOS and its name
 * as an election's row: a leader killed, a leader paused past its TTL (its stale write must meet the fence),
 * the server restarted mid-term (the failure reported of etcd3's Election: two leaders after an etcd
 * restart), and a leader cut off from the server mid-renewal (it must learn it before the next leads).
 */
const FAULTS: Record<string, string> = {
  'holder SIGKILLed': 'leader SIGKILLed',
  'holder SIGSTOPped past its TTL': 'leader SIGSTOPped past its TTL',
  'server restarted, holder and waiters on it': 'server restarted mid-term, leader and candidates on it',
  'connection cut mid-renewal': 'leader cut off mid-renewal (a partition)',
};

/** Each worker campaigns for one election, leads a few writes, resigns, campaigns again; judged as one-holder locks. */
export const ELECTION_SCENARIOS: FaultScenario[] = SINGLE_SERVER_SCENARIOS.filter((scenario) => scenario.fault in FAULTS).map(
  (scenario) => ({ ...scenario, fault: `election: ${FAULTS[scenario.fault]}`, lock: { kind: 'leader' } }),
);
