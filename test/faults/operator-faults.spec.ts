import { OPERATOR_SCENARIOS } from './operator-scenarios';
import { describeFaultMatrix } from './describe-fault-matrix';

describeFaultMatrix('a hung server and an operator taking locks away', OPERATOR_SCENARIOS);
