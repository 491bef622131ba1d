import { describeFaultMatrix } from './describe-fault-matrix';
import { ELECTION_SCENARIOS } from './election-scenarios';

describeFaultMatrix(
  'faults on elections (etcd)',
  ELECTION_SCENARIOS.filter((scenario) => scenario.driver === 'etcd'),
);
