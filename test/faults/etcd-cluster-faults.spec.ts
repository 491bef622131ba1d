import { CLUSTER_SCENARIOS } from './cluster-scenarios';
import { describeFaultMatrix } from './describe-fault-matrix';

describeFaultMatrix(
  'faults on a 3-member etcd cluster',
  CLUSTER_SCENARIOS.filter((scenario) => scenario.driver === 'etcd'),
);
