import { describeFaultMatrix } from './describe-fault-matrix';
import { SENTINEL_FAILOVER_SCENARIOS } from './failover-scenarios';

// a file of its own: a Sentinel set per run, and the files run side by side
describeFaultMatrix('a planned Sentinel failover', SENTINEL_FAILOVER_SCENARIOS);
