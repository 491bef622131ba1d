import { CLUSTER_SCENARIOS } from './cluster-scenarios';
import { describeFaultMatrix } from './describe-fault-matrix';

// one file per backend: each row restarts servers for tens of seconds, and files run side by side
describeFaultMatrix(
  'faults on Redis Cluster and Sentinel',
  CLUSTER_SCENARIOS.filter((scenario) => scenario.driver === 'redis'),
);
