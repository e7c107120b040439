// The queue conformance suite against the simulator (the same cases as queue-host.test.ts).

import { queueSuite } from '../../conformance/queue/queue-suite.ts';
import { simQueueBackend } from '../../conformance/queue/sim-backend.ts';

queueSuite(simQueueBackend);
