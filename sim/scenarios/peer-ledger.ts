// What scripted SMTP peers (net-peers.ts) kept, as the delivery ledger's attempts: each copy a peer
// kept is checked as a queued copy (checkCopy: an original byte for byte, or a bounce in qmail's
// words) and counts as a K for each of its recipients. Shared by net-crash and mta-crash's peers
// world.

import type { NetPeer } from './net-peers.ts';
import type { AcceptedMail, Attempt } from '../checkers/delivery.ts';
import { checkCopy, type CopyRules } from '../checkers/mailboxes.ts';
import { innermost } from '../checkers/mail-identity.ts';

export interface PeerAttempts {
  attempts: Attempt[];
  kept: number;
  window: number;
  /** (index, recipient) -> kept without a 250. */
  windowKeys: Map<string, number>;
}

/** What the peers kept: a K per recipient. A copy kept without a 250 gets an epoch of its own (its
 *  redelivery in the same run is the "Possible duplicate!" qmail-remote reports, not a bug). */
export function peerAttempts(peers: readonly NetPeer[], rules: CopyRules, violations: string[]): PeerAttempts {
  const out: PeerAttempts = { attempts: [], kept: 0, window: 0, windowKeys: new Map() };
  let own = 0;
  for (const p of peers) {
    p.records.forEach((r, i) => {
      const where = `${p.name} message ${i}`;
      out.kept++;
      const id = checkCopy(where, r.mess, r.sender, rules, violations);
      if (r.window) out.window++;
      const epoch = r.window ? -1 - own++ : r.epoch;
      for (const rcpt of r.recipients) {
        out.attempts.push({ recipient: rcpt, report: 'K', message: r.mess, epoch, identity: id });
        const index = innermost(id);
        if (r.window && id.kind === 'original' && index !== null) out.windowKeys.set(`${index} ${rcpt}`, (out.windowKeys.get(`${index} ${rcpt}`) ?? 0) + 1);
      }
    });
  }
  return out;
}

/** Of the ledger's duplicate deliveries (accepted messages, K's beyond the envelope's count), those
 *  a peer's unanswered keep explains: at most one per such keep. */
export function windowDuplicates(peers: PeerAttempts, attempts: Attempt[], accepted: AcceptedMail[]): number {
  const wanted = new Map<string, number>();
  for (const m of accepted) for (const r of m.recipients) wanted.set(`${m.index} ${r}`, (wanted.get(`${m.index} ${r}`) ?? 0) + 1);
  const ks = new Map<string, number>();
  for (const a of attempts) {
    if (a.report !== 'K' || a.identity?.kind !== 'original') continue;
    const key = `${a.identity.index} ${a.recipient}`;
    if (peers.windowKeys.has(key)) ks.set(key, (ks.get(key) ?? 0) + 1);
  }
  let n = 0;
  for (const [key, window] of peers.windowKeys) {
    const want = wanted.get(key);
    if (want !== undefined) n += Math.min(window, Math.max(0, (ks.get(key) ?? 0) - want));
  }
  return n;
}
