// The programs of an installation, by the name they are installed under. The simulator runs the
// very same mains the host binaries run.

import type { Program } from '../impl/sys/types.ts';
import { main as qmailQueue } from '../impl/queue/main.ts';
import { main as qmailQueued } from '../impl/queued/main.ts';
import { main as queueFix } from '../impl/queue-fix/main.ts';
import { main as qmailQread } from '../impl/qread/main.ts';
import { main as qmailQstat } from '../impl/qstat/main.ts';
import { main as qmailNullqueue } from '../impl/nullqueue/main.ts';
import { main as qmailNewu } from '../impl/newu/main.ts';
import { main as qmailGetpw } from '../impl/getpw/main.ts';
import { main as qmailPw2u } from '../impl/pw2u/main.ts';
import { main as maildirmake } from '../impl/maildirmake/main.ts';
import { main as qmailLspawn } from '../impl/lspawn/main.ts';
import { main as qmailLocalWorker } from '../impl/local-worker/main.ts';
import { main as qmailLocal } from '../impl/local/main.ts';
import { main as qmailStart } from '../impl/start/main.ts';
import { main as qmailSend } from '../impl/send/main.ts';
import { main as todoProc } from '../impl/todo/main.ts';
import { main as qmailClean } from '../impl/clean/main.ts';
import { main as qmailRspawnDefer } from '../impl/rspawn-defer/main.ts';
import { main as qmailRspawn } from '../impl/rspawn/main.ts';
import { main as qmailRemote } from '../impl/remote/main.ts';
import { main as qmailSmtpd } from '../impl/smtpd/main.ts';
import { main as qmailInject } from '../impl/inject/main.ts';
import { main as sendmail } from '../impl/sendmail/main.ts';

export const qmailPrograms: Readonly<Record<string, Program>> = {
  'qmail-queue': qmailQueue,
  'qmail-queued': qmailQueued,
  'queue-fix': queueFix,
  'qmail-qread': qmailQread,
  'qmail-qstat': qmailQstat,
  'qmail-nullqueue': qmailNullqueue,
  'qmail-newu': qmailNewu,
  'qmail-getpw': qmailGetpw,
  'qmail-pw2u': qmailPw2u,
  maildirmake,
  'qmail-local': qmailLocal,
  'qmail-lspawn': qmailLspawn,
  'qmail-local-worker': qmailLocalWorker,
  'qmail-start': qmailStart,
  'qmail-send': qmailSend,
  'todo-proc': todoProc,
  'qmail-clean': qmailClean,
  'qmail-rspawn-defer': qmailRspawnDefer,
  'qmail-rspawn': qmailRspawn,
  'qmail-remote': qmailRemote,
  'qmail-smtpd': qmailSmtpd,
  'qmail-inject': qmailInject,
  sendmail,
};
