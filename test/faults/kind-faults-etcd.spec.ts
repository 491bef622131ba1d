import { describeFaultMatrix } from './describe-fault-matrix';
import { KIND_SCENARIOS } from './kind-scenarios';

describeFaultMatrix('faults on permits and read/write locks (etcd)', [...KIND_SCENARIOS.filter((scenario) => scenario.driver === 'etcd')]);
