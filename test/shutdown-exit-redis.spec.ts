import { describeProcessExit } from './helpers/process-exit';

describeProcessExit('redis', false);
