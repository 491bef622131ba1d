import { CONTROL_SCENARIO, SINGLE_SERVER_SCENARIOS } from './scenarios';
import { describeFaultMatrix } from './describe-fault-matrix';

describeFaultMatrix('faults on one redis server', [CONTROL_SCENARIO, ...SINGLE_SERVER_SCENARIOS.filter((s) => s.driver === 'redis')]);
