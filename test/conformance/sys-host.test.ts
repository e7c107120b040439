// The fs conformance suite against real Linux (as root; skipped otherwise).

import { fsSuite } from '../../conformance/sys/fs-suite.ts';
import { hostBackend } from '../../conformance/sys/host-backend.ts';

fsSuite(hostBackend);
