import { describeProcessExit } from './helpers/process-exit';

describeProcessExit('etcd', true);
