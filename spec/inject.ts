// qmail-inject and the sendmail wrapper (../shared/spec/local.md section 3): their exact texts,
// exit codes and limits. Imports nothing.

export const injectExit = {
  ok: 0,
  /** Invalid invocation, severe syntax error, or a permanent (D) qmail-queue refusal. */
  perm: 100,
  /** Temporary failure: memory, read error, qmail-queue would not run, a temporary (Z) refusal. */
  temp: 111,
} as const;

export const injectFatal = 'qmail-inject: fatal: ';

export const injectText = {
  noMem: 'out of memory',
  invalidField: 'invalid header field: ',
  runQq: 'unable to run qmail-queue',
  bug: 'internal bug',
  readError: 'read error',
  parseLine: 'unable to parse this line:\n',
  parseAddress: 'unable to parse address: ',
} as const;

/** qmail-inject's getopt string: no -F (that is the sendmail wrapper's). */
export const injectOptions = 'aAhHnNf:';

/** Folded address lists keep each line at most this many characters (without the \n). */
export const headerLineCharsMax = 80;
/** A folded continuation line starts with this. */
export const foldIndent = '  ';

/** The control files qmail-inject reads, with the environment variable that overrides each. Each
 *  defaults to control/me, then to its own name. */
export const injectControls = {
  defaultdomain: 'QMAILDEFAULTDOMAIN',
  defaulthost: 'QMAILDEFAULTHOST',
  plusdomain: 'QMAILPLUSDOMAIN',
  idhost: 'QMAILIDHOST',
} as const;

export const recipientListNotShown = 'recipient list not shown: ;';

export const sendmailExit = { perm: 100, temp: 111 } as const;
export const sendmailText = {
  home: 'sendmail: fatal: unable to switch to qmail home directory',
  usage: 'sendmail: usage: sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]',
  newaliases: 'sendmail: fatal: please use fastforward/newaliases instead',
  run: 'sendmail: fatal: unable to run ',
} as const;

/** sendmail's getopt string (notqmail sendmail.c). */
export const sendmailOptions = 'vimte:f:p:o:B:F:EJxb:';

/** The environment sendmail -bs gives qmail-smtpd when PROTO is unset. */
export const sendmailBsEnv: Readonly<Record<string, string>> = {
  RELAYCLIENT: '',
  DATABYTES: '0',
  PROTO: 'TCP',
  TCPLOCALIP: '127.0.0.1',
  TCPLOCALHOST: 'localhost',
  TCPREMOTEIP: '127.0.0.1',
  TCPREMOTEHOST: 'localhost',
  TCPREMOTEINFO: 'sendmail-bs',
};
