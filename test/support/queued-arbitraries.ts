// fast-check arbitraries for the qmail-smtpd --listen <-> qmail-queued protocol
// (impl/lib/queued-protocol.ts), shared by its round-trip and one-buffer-frame tests.

import fc from 'fast-check';
import type { QueuedRequest } from '../../impl/lib/queued-protocol.ts';

/** A request or reply id: any 32-bit unsigned number. */
export const queuedId = fc.integer({ min: 0, max: 0xffff_ffff });

/** Any request: open, end and abort carry an id; message and envelope pieces carry bytes too. */
export const queuedRequest: fc.Arbitrary<QueuedRequest> = fc.oneof(
  fc.record({ kind: fc.constantFrom('O' as const, 'E' as const, 'A' as const), id: queuedId }),
  fc.record({ kind: fc.constantFrom('M' as const, 'V' as const), id: queuedId, bytes: fc.uint8Array({ maxLength: 300 }) }),
);
