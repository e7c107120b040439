// qmail-local: exit codes, every text it prints, the environment it gives programs, and our bounds.
// Facts: ../shared/spec/local.md section 2 (notqmail qmail-local.c, VERIFIED texts); our contract
// additions: spec/local.md. Texts are byte strings: a parameter (a path from a .qmail line, an
// address) is spliced in byte for byte.

import { qlx } from './users.ts';

/** Exit codes (2.10). refusedRoot is qmail-lspawn's QLX_ROOT: the in-process entry point does the
 *  check qmail-lspawn's child does after setuid (1.5), and returns its code. */
export const localExit = {
  ok: 0,
  perm: 100,
  temp: 111,
  refusedRoot: qlx.root,
} as const;

export type LocalExit = (typeof localExit)[keyof typeof localExit];

/** 2.1: wrong arguments (exit 100). */
export const usageText = 'qmail-local: usage: qmail-local [ -nN ] user homedir local dash ext domain sender aliasempty';

/** sgetopt's complaint before usage, for an option other than n and N. */
export const illegalOption = (prog: string, opt: string): string => `${prog}: illegal option -- ${opt}`;

/** Every diagnostic (stderr, one line each; the program appends \n). 2.1-2.10. */
export const localText = {
  noMem: 'Out of memory. (#4.3.0)',
  rewind: 'Unable to rewind message. (#4.3.0)',
  childCrashed: 'Aack, child crashed. (#4.3.0)',
  fork: (e: string) => `Unable to fork: ${e}. (#4.3.0)`,
  read: (e: string) => `Unable to read message: ${e}. (#4.3.0)`,
  slowLock: 'File has been locked for 30 seconds straight. (#4.3.0)',
  /** A .qmail file (or its -owner sibling) that cannot be opened or stat'ed for a temporary reason. */
  openQmail: (f: string, e: string) => `Unable to open ${f}: ${e}. (#4.3.0)`,
  openMbox: (f: string, e: string) => `Unable to open ${f}: ${e}. (#4.2.1)`,
  writeMbox: (f: string, e: string) => `Unable to write ${f}: ${e}. (#4.3.0)`,
  switchHome: (h: string, e: string) => `Unable to switch to ${h}: ${e}. (#4.3.0)`,
  statHome: (e: string) => `Unable to stat home directory: ${e}. (#4.3.0)`,
  homeWritable: 'Uh-oh: home directory is writable. (#4.7.0)',
  homeSticky: 'Home directory is sticky: user is editing his .qmail file. (#4.2.1)',
  /** -n only: printed, and the run goes on. */
  homeStickyWarning: 'Warning: home directory is sticky.',
  qmailWritable: 'Uh-oh: .qmail file is writable. (#4.7.0)',
  noMailbox: 'Sorry, no mailbox here by that name. (#5.1.1)',
  looping: 'This message is looping: it already has my Delivered-To line. (#5.4.6)',
  firstLineBlank: 'Uh-oh: first line of .qmail file is blank. (#4.2.1)',
  fileWithXBit: 'Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)',
  progWithXBit: 'Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)',
  runShell: (e: string) => `Unable to run /bin/sh: ${e}. (#4.3.0)`,
  maildirChdir: 'Unable to chdir to maildir. (#4.2.1)',
  maildirTimeout: 'Timeout on maildir delivery. (#4.3.0)',
  maildirRead: 'Unable to read message. (#4.3.0)',
  maildirTemp: 'Temporary error on maildir delivery. (#4.3.0)',
  /** text = qmail-queue client's message without its D/Z letter. */
  forward: (text: string) => `Unable to forward message: ${text}.`,
} as const;

/** -n output, one line per instruction (2.1): the prefix, then the line as written. */
export const sayPrefix = {
  mbox: 'mbox ',
  maildir: 'maildir ',
  program: 'program ',
  forward: 'forward ',
} as const;

/** The success report on stdout (2.4): `did F+W+P\n`, then `qp PID\n` after a forward. */
export const didLine = (files: number, forwards: number, programs: number): string => `did ${files}+${forwards}+${programs}\n`;
export const qpLine = (pid: number): string => `qp ${pid}\n`;

/** 2.3: the variables qmail-local sets, in the order it sets them (each replaces an inherited one
 *  and goes to the end of the environment). DEFAULT only when a -default file matched. */
export const envNames = [
  'HOST', 'HOME', 'USER', 'LOCAL', 'RECIPIENT', 'DTLINE', 'SENDER', 'RPLINE', 'UFLINE',
  'EXT', 'EXT2', 'EXT3', 'EXT4', 'HOST2', 'HOST3', 'HOST4', 'DEFAULT', 'NEWSENDER',
] as const;

export type EnvName = (typeof envNames)[number];

/** 2.5: a program's exit code → what qmail-local does. */
export const programExit = {
  ok: 0,
  /** Success; the following lines are not run (forwards collected before still happen). */
  stop: 99,
  /** qmail-local exits 100 (bounce) for these; every other nonzero code → 111. */
  permanent: [100, 64, 65, 70, 76, 77, 78, 112] as readonly number[],
} as const;

/** 2.2, 2.9: the names .qmail files are looked up under. */
export const dotQmail = {
  prefix: '.qmail',
  default: 'default',
  owner: '-owner',
  ownerDefault: '-owner-default',
  /** The sender for which no -owner lookup is done (qmail-send's double bounce). */
  doubleBounceSender: '#@[]',
} as const;

/** conf-patrn: mode bits that make a home directory or a .qmail file unacceptable (world-writable). */
export const autoPatrn = 0o002;
/** The home directory's sticky bit: the user is editing .qmail (defer). */
export const stickyBit = 0o1000;
/** The .qmail file's owner-execute bit: forward-only (2.4). */
export const forwardOnlyBit = 0o100;
/** qmail-local's umask: files it creates and programs it runs get it. */
export const localUmask = 0o077;
/** Mode of new mboxes and maildir files: qmail asks for 0600 and 0644 under umask 077, both 0600. */
export const deliveredFileMode = 0o600;

// ---- bounds (ours where qmail has none; spec/local.md) ----

/** mbox lock wait (qmail's alarm(30)). */
export const lockWaitMs = 30_000;
/** Pause between non-blocking lock attempts: doubles from min to max. */
export const lockPollMinMs = 20;
export const lockPollMaxMs = 1_000;
/** Maildir delivery deadline (qmail's alarm(86400) in the maildir child). */
export const maildirTimeoutMs = 86_400_000;
/** Unique-name attempts in tmp/ before a temporary failure (qmail: 3). */
export const maildirAttemptsMax = 3;
/** gethostname's buffer in qmail (64): longer host names are cut. */
export const hostBytesMax = 63;
/** A .qmail file longer than this is a temporary failure ("Out of memory", what qmail's slurp
 *  would say when it cannot grow). qmail has no bound. */
export const dotQmailBytesMax = 16 * 1024 * 1024;
/** The in-process entry point keeps at most this much output (qmail-lspawn keeps 3000 bytes). */
export const capturedOutputBytesMax = 64 * 1024;
/** Ours: the mbox recovery record beside PATH (spec/local.md, mbox crash safety). */
export const mboxPendingSuffix = '.qmail-pending';
/** A recovery record longer than this is not ours: ignored and removed. */
export const mboxPendingBytesMax = 4096;

export function assertLocalLimits(): void {
  if (!(lockPollMinMs > 0 && lockPollMinMs <= lockPollMaxMs && lockPollMaxMs < lockWaitMs)) throw new Error('spec: lock polling bounds');
  if (!(capturedOutputBytesMax > 3000)) throw new Error('spec: captured output must hold a whole lspawn report');
  if (!(maildirAttemptsMax >= 1)) throw new Error('spec: maildirAttemptsMax');
}
assertLocalLimits();
