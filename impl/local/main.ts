// qmail-local: deliver or forward one mail message to a user (../shared/spec/local.md section 2).
//
// Usage:   qmail-local [ -nN ] user homedir local dash ext domain sender defaultdelivery
// Runs as: the recipient user (qmail-lspawn sets the uid, gid and groups before starting it).
// Input:   fd 0, the message: a seekable file (the queue's mess file), read only by position, so
//          its offset stays where it was. homedir/.qmail<dash><ext> (or a -default file, or
//          defaultdelivery when there is none and dash is empty).
// Output:  the deliveries the .qmail file asks for: mboxes, maildirs (under homedir unless
//          absolute), programs (/bin/sh -c, cwd homedir, the message on a pipe), forwards (one
//          qmail-queue run). fd 1: `did F+W+P` (and `qp PID` after a forward), or with -n one line
//          per instruction; fd 2: one diagnostic line on failure. Programs write on fds 1 and 2.
// Exit:    0 delivered; 100 permanent failure (bounce); 111 temporary failure (defer). The texts
//          are spec/local.ts's, byte for byte.
// Environment: inherited by programs, plus HOST HOME USER LOCAL RECIPIENT DTLINE SENDER RPLINE
//          UFLINE EXT EXT2-4 HOST2-4 DEFAULT NEWSENDER. QMAILQUEUE, QMAILHOME for forwards.
// Crash safety: exit 0 only after every delivery is durable under the posix profile: a maildir
//          message is fsynced before it is linked into new/ and new/ is fsynced before we go on;
//          an mbox entry is fsynced, and its recovery record (spec/local.md) lets the next run cut
//          off an entry a crash interrupted; a forward is durable when qmail-queue exits 0.

import type { Sys } from '../sys/types.ts';
import { localExit, localUmask } from '../../spec/local.ts';
import { parseArgv } from './args.ts';
import { binOf } from './bytes.ts';
import { runLocal } from './deliver.ts';
import { fdMessage } from './message.ts';
import { fdOutput } from './output.ts';

export async function main(sys: Sys): Promise<number> {
  sys.proc.umask(localUmask);
  const out = fdOutput(sys);
  const parsed = parseArgv(sys.proc.self.argv);
  if ('usage' in parsed) {
    for (const line of parsed.usage) await out.err(binOf(line));
    return localExit.perm;
  }
  const message = await fdMessage(sys, 0);
  return runLocal(sys, parsed.args, message, sys.proc.self.env, out);
}
