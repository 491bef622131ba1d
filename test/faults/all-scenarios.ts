import { CLUSTER_SCENARIOS } from './cluster-scenarios';
import { CLUSTER_FAILOVER_SCENARIOS, SENTINEL_FAILOVER_SCENARIOS } from './failover-scenarios';
import { OPERATOR_SCENARIOS } from './operator-scenarios';
import { CONTROL_SCENARIO, FaultScenario, SINGLE_SERVER_SCENARIOS } from './scenarios';
import { KIND_CONTROL_SCENARIO, KIND_SCENARIOS } from './kind-scenarios';
import { ELECTION_SCENARIOS } from './election-scenarios';

/** Every row of the fault report, in the order printed. */
export const ALL_SCENARIOS: FaultScenario[] = [
  CONTROL_SCENARIO,
  ...SINGLE_SERVER_SCENARIOS,
  ...OPERATOR_SCENARIOS,
  ...CLUSTER_SCENARIOS,
  ...SENTINEL_FAILOVER_SCENARIOS,
  ...CLUSTER_FAILOVER_SCENARIOS,
  KIND_CONTROL_SCENARIO,
  ...KIND_SCENARIOS,
  ...ELECTION_SCENARIOS,
];
