// qmail-smtpd: receive mail via SMTP (one session on fds 0/1, as under tcpserver).
//
// Usage:   tcpserver ... qmail-smtpd      (no arguments)
//          qmail-smtpd --listen HOST:PORT [-x RULES.cdb]  (one process serving every connection
//          in-process, impl/smtpd/listen.ts; exits 1 on bad arguments, 111 when it cannot listen,
//          cannot set up its queue, or when its qmail-queued died: supervise then starts it
//          again). -x: tcpserver's access rules, a cdb made by tcprules(1) (./tcprules.ts):
//          per client, refusal or variables such as RELAYCLIENT; a new cdb counts from the next
//          connection, and a missing or unreadable file refuses every connection, as tcpserver -x
//          does.
// Runs as: qmaild (tcpserver's -u/-g), so that qmail-queue writes "invoked from network".
//          --listen started as root binds, starts qmail-queued as qmailq (one long-lived queue
//          writer for every session, impl/smtpd/privsep.ts) and then becomes qmaild itself.
// Input:   fd 0, the client's bytes. Controls from <home>/control: me, smtpgreeting, localiphost,
//          timeoutsmtpd, rcpthosts, morercpthosts.cdb, badmailfrom, databytes.
//          Environment (tcp-environ): TCPLOCALHOST, TCPLOCALIP, TCPREMOTEIP, TCPREMOTEHOST,
//          TCPREMOTEINFO, RELAYCLIENT, DATABYTES; QMAILQUEUE/NULLQUEUE pick the queue program.
// Output:  fd 1, the replies (spec/smtpd.ts, byte for byte). Each message goes to qmail-queue with
//          qmail-smtpd's Received line first and the envelope F<sender> T<rcpt>... after it.
// Exit:    0 after QUIT; 1 on EOF, a read error, a timeout, a bare LF in DATA, or unreadable
//          controls (after "421 unable to read controls (#4.3.0)").
// Crash safety: nothing is stored here. A message is accepted ("250 ok") only after qmail-queue
//          exited 0 (or qmail-queued answered 0), i.e. after it is durable; a session that dies
//          mid-DATA leaves qmail-queue's input without an envelope, so it queues nothing.

import type { Sys } from '../sys/types.ts';
import { qmailHome } from '../shared/queue-config.ts';
import { writeAll } from '../shared/fdio.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { smtpdReply } from '../../spec/smtpd.ts';
import { loadSetup } from './config.ts';
import { runSession } from './session.ts';
import { listenLoop, parseListen } from './listen.ts';
import { setUpQueueing } from './privsep.ts';
import { SysError } from '../sys/errors.ts';

/** --listen: cannot bind (temporary, as qmail's 111). */
const tempListen = 111;
/** --listen with a bad address (usage). */
const permUsage = 1;

export async function main(sys: Sys): Promise<number> {
  const env = sys.proc.self.env;
  const home = qmailHome(sys);
  const argv = sys.proc.self.argv;
  if (argv[1] === '--listen') {
    const rest = argv.slice(3);
    if (rest.length === 0) return listen(sys, home, env, argv[2] ?? '', null);
    if (rest.length === 2 && rest[0] === '-x' && rest[1] !== '') return listen(sys, home, env, argv[2] ?? '', rest[1] ?? null);
    return listenUsage(sys);
  }
  const setup = await loadSetup(sys, home, env);
  if (setup === null) {
    await writeAll(sys, 1, latin1Bytes(smtpdReply.dieControl)).catch(() => undefined);
    return 1;
  }
  return runSession(sys, setup.cfg, { home, env, inFd: 0, outFd: 1, timeoutMs: setup.timeoutMs });
}

async function listenUsage(sys: Sys): Promise<number> {
  await writeAll(sys, 2, latin1Bytes(`qmail-smtpd: usage: qmail-smtpd [--listen host:port [-x rules.cdb]]\n`)).catch(() => undefined);
  return permUsage;
}

async function listen(sys: Sys, home: string, env: Record<string, string>, spec: string, rules: string | null): Promise<number> {
  const at = parseListen(spec);
  if (at === null) return listenUsage(sys);
  let listener;
  try {
    listener = await sys.net.listen(at);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    await writeAll(sys, 2, latin1Bytes(`qmail-smtpd: cannot listen on ${spec}: ${e.code}\n`)).catch(() => undefined);
    return tempListen;
  }
  const q = await setUpQueueing(sys, home, env);
  if ('error' in q) {
    await writeAll(sys, 2, latin1Bytes(`qmail-smtpd: ${q.error}\n`)).catch(() => undefined);
    return tempListen;
  }
  let died: string | null = null;
  void q.died?.then((why) => (died = why));
  try {
    const code = await listenLoop(sys, home, env, listener, q, rules);
    if (died !== null) await writeAll(sys, 2, latin1Bytes(`qmail-smtpd: qmail-queued died (${died}), exiting\n`)).catch(() => undefined);
    return code;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    await writeAll(sys, 2, latin1Bytes(`qmail-smtpd: listening on ${spec}: ${e.code}\n`)).catch(() => undefined);
    return tempListen;
  }
}
