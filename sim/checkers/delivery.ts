// The delivery ledger: what happened to every accepted message, checked against the promise of
// ../shared/spec/queue.md 6.4 (at-least-once) and our own (duplicates only in the 6.3 window):
//
//   1. every recipient of every message whose qmail-queue exited 0 was delivered (K) at least once,
//      or named in a bounce about that message that was itself delivered, or is still held in the
//      queue (H: a remote recipient that the end-to-end suites leave deferred, or named in a bounce
//      so held);
//   2. a queued copy is delivered to a recipient more often than the envelope names it only across
//      runs (a later epoch: qmail-send or the power died between the K and its durable mark);
//   3. two distinct bounce copies for one failure only when a run ended in between;
//   4. a bounce names only recipients the spawner refused (D, or Z in a dying job);
//   5. every copy delivered is a message some client submitted, or a bounce of one;
//   6. nothing of a copy is delivered, and no bounce about it is queued, in a run after the one
//      that logged its `end msg` (its channel files were durably gone by then: a redelivery would
//      be a resurrected message, outside the 6.3 window).
// Duplicates are counted and reported: they are the 6.3 window's price, allowed but visible.
//
// Input is a list of delivery attempts as a spawner saw them (sim/fake-spawner.ts's records); the
// end-to-end suites produce the same shape from mailboxes, the activity log and the queue
// (sim/checkers/mailboxes.ts), with each copy's identity already known.

import { latin1 } from '../../impl/lib/latin1.ts';
import { identify, instanceKey, type Identity } from './mail-identity.ts';
import type { Ends } from './send-state.ts';

export interface Attempt {
  recipient: string;
  /** K, Z or D + text; H: still queued for this recipient at the end (not an attempt of its own). */
  report: string;
  message: Uint8Array | null;
  /** The run (boot generation) of the spawner that made the attempt. */
  epoch: number;
  /** Which copy it was, when the caller knows (else identify(message)). */
  identity?: Identity;
}

export interface AcceptedMail {
  index: number;
  sender: string;
  recipients: string[];
}

export interface LedgerInput {
  accepted: AcceptedMail[];
  /** Submissions whose fate the client never learnt (cut off): delivered or not, both are fine. */
  uncertain: AcceptedMail[];
  attempts: Attempt[];
  /** The address a spawner is given for an envelope recipient (rewrite()). */
  address: (recipient: string) => string;
  /** The name a bounce block gives a spawner address (the virtual-domain prepend stripped). */
  bounceName: (address: string) => string;
  /** Rule 6's input (send-state.ts copyEnds); without it rule 6 is not checked. */
  ends?: Ends;
}

export interface LedgerCounts {
  messages: number;
  recipients: number;
  delivered: number;
  bounced: number;
  duplicateDeliveries: number;
  duplicateBounces: number;
  /** Recipients neither delivered nor bounced but still queued (H). */
  held: number;
}

export interface LedgerResult {
  violations: string[];
  checks: number;
  counts: LedgerCounts;
}

interface Seen {
  id: Identity;
  attempt: Attempt;
}

const key = (...parts: (string | number)[]): string => parts.join('\0');

export function checkDeliveries(input: LedgerInput): LedgerResult {
  const violations: string[] = [];
  const counts: LedgerCounts = { messages: input.accepted.length, recipients: 0, delivered: 0, bounced: 0, duplicateDeliveries: 0, duplicateBounces: 0, held: 0 };
  const seen: Seen[] = input.attempts.map((a) => ({ id: a.identity ?? identify(a.message === null ? '' : latin1(a.message)), attempt: a }));
  const known = new Set([...input.accepted, ...input.uncertain].map((m) => m.index));
  let checks = 0;

  const delivered = new Map<string, number>(); // (index, address) -> K count
  const refused = new Set<string>(); // (index, address) with a D or Z
  const bouncedBy = new Map<string, Set<string>>(); // (index, address) -> bounce copies delivered or held
  const held = new Set<string>(); // (index, address) still queued
  const perCopy = new Map<string, { allowed: number; epochs: Map<number, number> }>(); // (copy, address) -> K per epoch
  const times = new Map<string, number>(); // (index, address) -> how often the envelope names it
  for (const m of [...input.accepted, ...input.uncertain]) for (const r of m.recipients) times.set(key(m.index, input.address(r)), (times.get(key(m.index, input.address(r))) ?? 0) + 1);
  for (const { id, attempt } of seen) {
    checks++;
    const letter = attempt.report[0];
    if (id.kind === 'unknown') violations.push(`delivery to ${attempt.recipient}: a message nobody submitted`);
    if (id.kind === 'original' && !known.has(id.index)) violations.push(`message ${id.index}: delivered but never accepted`);
    if (id.kind === 'original' && letter === 'H') held.add(key(id.index, attempt.recipient));
    if (id.kind === 'original' && letter !== 'K' && letter !== 'H') refused.add(key(id.index, attempt.recipient));
    if (letter !== 'K' && letter !== 'H') continue;
    if (id.kind === 'original' && letter === 'K') delivered.set(key(id.index, attempt.recipient), (delivered.get(key(id.index, attempt.recipient)) ?? 0) + 1);
    // A bounce names failures of the copy it wraps; a double bounce wraps a bounce that failed
    // itself, which still tells of the original's failures (qmail's bounce of a bounce).
    for (const b of bouncesOfOriginals(id)) {
      for (const name of b.failed) {
        const k = key(b.index, name);
        bouncedBy.set(k, (bouncedBy.get(k) ?? new Set()).add(b.copy));
      }
    }
    if (letter === 'H') continue;
    const ck = key(instanceKey(id), attempt.recipient);
    const allowed = id.kind === 'original' ? (times.get(key(id.index, attempt.recipient)) ?? 1) : 1;
    const entry = perCopy.get(ck) ?? { allowed, epochs: new Map<number, number>() };
    entry.epochs.set(attempt.epoch, (entry.epochs.get(attempt.epoch) ?? 0) + 1);
    perCopy.set(ck, entry);
  }

  for (const m of input.accepted) {
    const multiplicity = new Map<string, number>();
    for (const r of m.recipients) multiplicity.set(input.address(r), (multiplicity.get(input.address(r)) ?? 0) + 1);
    for (const [address, wanted] of multiplicity) {
      checks++;
      counts.recipients++;
      const k = delivered.get(key(m.index, address)) ?? 0;
      const bounces = bouncedBy.get(key(m.index, input.bounceName(address)))?.size ?? 0;
      const isHeld = held.has(key(m.index, address));
      if (k > 0) counts.delivered++;
      if (bounces > 0) counts.bounced++;
      if (k === 0 && bounces === 0 && isHeld) counts.held++;
      if (k === 0 && bounces === 0 && !isHeld) violations.push(`message ${m.index}: recipient ${address} neither delivered nor bounced`);
      counts.duplicateDeliveries += Math.max(0, k - wanted);
      counts.duplicateBounces += Math.max(0, bounces - 1);
    }
  }
  // Refusals by message index, as the names a bounce would give them (one pass, not one per bounce).
  const refusedNames = new Map<string, Set<string>>();
  for (const r of refused) {
    const [index = '', address = ''] = r.split('\0');
    const names = refusedNames.get(index) ?? new Set<string>();
    refusedNames.set(index, names.add(input.bounceName(address)));
  }
  for (const k of bouncedBy.keys()) {
    checks++;
    const [index = '', name = ''] = k.split('\0');
    const refusedHere = refusedNames.get(index)?.has(name) ?? false;
    if (!refusedHere) violations.push(`message ${index}: bounced for ${name}, which never failed`);
  }
  if (input.ends !== undefined) violations.push(...afterEnd(seen, input.ends));
  for (const [ck, { allowed, epochs }] of perCopy) {
    for (const [epoch, n] of epochs) {
      checks++;
      if (n > allowed) violations.push(`copy ${JSON.stringify(ck.split('\0')[0])} to ${ck.split('\0')[1]}: delivered ${n} times in run ${epoch}`);
    }
  }
  return { violations, checks, counts };
}

/** Each bounce in a copy's nesting that wraps an original directly: its failures and its copy. */
function bouncesOfOriginals(id: Identity): { index: number; failed: string[]; copy: string }[] {
  if (id.kind !== 'bounce') return [];
  if (id.inner.kind === 'original') return [{ index: id.inner.index, failed: id.failed, copy: id.copy }];
  return bouncesOfOriginals(id.inner);
}

const qpOf = (copy: string): number | null => {
  const m = /^Received: \(qmail ([0-9]+) invoked/.exec(copy);
  return m === null ? null : Number(m[1]);
};

/** The run of the `end msg` of the queue instance a copy is (send-state.ts Ends): an original is
 *  looked up as `qp#index` (a qmail-queued queues many under one qp), then by its qp alone. */
function endRunOf(id: Identity, ends: Ends): number | undefined {
  const qp = qpOf(id.copy);
  if (qp === null) return undefined;
  return (id.kind === 'original' ? ends.endRun.get(`${qp}#${id.index}`) : undefined) ?? ends.endRun.get(String(qp));
}

function afterEnd(seen: Seen[], ends: Ends): string[] {
  const out: string[] = [];
  for (const { id, attempt } of seen) {
    const endRun = endRunOf(id, ends);
    if (endRun !== undefined && attempt.epoch > endRun && attempt.report[0] === 'K')
      out.push(`copy of qp ${qpOf(id.copy)}${id.kind === 'original' ? ` (message ${id.index})` : ''}: delivered to ${attempt.recipient} in run ${attempt.epoch}, after its end msg in run ${endRun}`);
  }
  const bounces = new Set<string>();
  for (const { id } of seen) {
    if (id.kind !== 'bounce' || bounces.has(id.copy)) continue;
    bounces.add(id.copy);
    const [about, own] = [qpOf(id.inner.copy), qpOf(id.copy)];
    const endRun = endRunOf(id.inner, ends);
    const queuedRun = own === null ? undefined : ends.bounceRun.get(own);
    if (endRun !== undefined && queuedRun !== undefined && queuedRun > endRun)
      out.push(`copy of qp ${about}: bounced (qp ${own}) in run ${queuedRun}, after its end msg in run ${endRun}`);
  }
  return out;
}
