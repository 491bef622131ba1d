import { describeFaultMatrix } from './describe-fault-matrix';
import { KIND_CONTROL_SCENARIO, KIND_SCENARIOS } from './kind-scenarios';

describeFaultMatrix('faults on permits and read/write locks (redis)', [
  KIND_CONTROL_SCENARIO,
  ...KIND_SCENARIOS.filter((scenario) => scenario.driver === 'redis'),
]);
