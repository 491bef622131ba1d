import { describeProcessExit } from './helpers/process-exit';

describeProcessExit('etcd', false);
