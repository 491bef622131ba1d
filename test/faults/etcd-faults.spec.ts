import { SINGLE_SERVER_SCENARIOS } from './scenarios';
import { describeFaultMatrix } from './describe-fault-matrix';

describeFaultMatrix(
  'faults on one etcd server',
  SINGLE_SERVER_SCENARIOS.filter((s) => s.driver === 'etcd'),
);
