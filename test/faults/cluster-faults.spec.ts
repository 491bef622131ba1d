import { CLUSTER_SCENARIOS } from './cluster-scenarios';
import { describeFaultMatrix } from './describe-fault-matrix';

describeFaultMatrix('faults on clustered backends', CLUSTER_SCENARIOS);
