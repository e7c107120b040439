// The queue conformance suite against this host: qmail-setup's installation, the real qmail users
// and an ordinary user (as root; skipped otherwise). The same cases as queue-sim.test.ts.

import { queueSuite } from '../../conformance/queue/queue-suite.ts';
import { hostQueueBackend } from '../../conformance/queue/host-backend.ts';

queueSuite(hostQueueBackend);
