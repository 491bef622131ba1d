import { describeFaultMatrix } from './describe-fault-matrix';
import { ELECTION_SCENARIOS } from './election-scenarios';

describeFaultMatrix(
  'faults on elections (redis)',
  ELECTION_SCENARIOS.filter((scenario) => scenario.driver === 'redis'),
);
