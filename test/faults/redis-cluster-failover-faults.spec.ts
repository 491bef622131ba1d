import { describeFaultMatrix } from './describe-fault-matrix';
import { CLUSTER_FAILOVER_SCENARIOS } from './failover-scenarios';

// a file of its own: a 6-node cluster per row (per run for FORCE), and the files run side by side
describeFaultMatrix('manual failovers of a Redis Cluster with replicas', CLUSTER_FAILOVER_SCENARIOS);
