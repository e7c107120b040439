// qmail-remote: send one message to one host by SMTP (notqmail qmail-remote.c).
//
// Usage:   qmail-remote host sender recip [recip ...]
// Runs as: qmailr (run by qmail-rspawn with QMAILREMOTE, or by hand); reads controls under QMAILHOME.
// Input:   fd 0 the message (read by position from offset 0); control/helohost, me, timeoutremote,
//          timeoutconnect, smtproutes; DNS (MX, A).
// Output:  fd 1: per recipient r/h/s + text, then one K/Z/D message report, each ending in NUL
//          (spec/remote.ts, ../shared/spec/local.md 5.5).
// Exit:    always 0: the result is the report.
// Crash safety: it changes nothing locally. A connection lost after the final dot reports
//          "Possible duplicate!" as a deferral: the message may arrive twice, never not at all.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { remoteReports } from '../../spec/remote.ts';
import { latin1 } from '../lib/latin1.ts';
import { writeAll } from '../shared/fdio.ts';
import { qmailHome } from '../shared/queue-config.ts';
import { loadRemoteConfig } from './config.ts';
import { qmailRemote, reportBytes } from './remote.ts';
import type { MessageSource } from './smtp.ts';

const enc = new TextEncoder();

export async function main(sys: Sys): Promise<number> {
  const report = await run(sys);
  await writeAll(sys, 1, report).catch(() => undefined);
  return 0;
}

async function run(sys: Sys): Promise<Uint8Array> {
  // argv strings are bytes as latin1 on both worlds' sides of the protocol.
  const argv = sys.proc.self.argv.map((a) => latin1(enc.encode(a)));
  if (argv.length < 4) return reportBytes([remoteReports.usage]);
  let home: string;
  try {
    home = qmailHome(sys);
    await sys.proc.chdir(home);
  } catch (e) {
    if (e instanceof SysError || e instanceof Error) return reportBytes([remoteReports.chdir]);
    throw e;
  }
  const cfg = await loadRemoteConfig(sys, home);
  if ('report' in cfg) return reportBytes([cfg.report]);
  const message = fd0Message(sys);
  const [, host, sender, ...recips] = argv as [string, string, string, ...string[]];
  return qmailRemote(sys, cfg, { host, sender, recips, message });
}


/** fd 0 read by position (qmail-remote's fd 0 is the queue file); on a pipe (ESPIPE, a message
 *  given by hand) it is read in sequence instead, which blast's single pass from 0 makes the same. */
function fd0Message(sys: Sys): MessageSource {
  let seekable = true;
  return {
    read: async (buf, position) => {
      if (seekable) {
        try {
          return await sys.fs.read(0, buf, 0, buf.length, position);
        } catch (e) {
          if (!(e instanceof SysError && e.code === 'ESPIPE' && position === 0)) throw e;
          seekable = false;
        }
      }
      return sys.fs.read(0, buf, 0, buf.length, null);
    },
  };
}
