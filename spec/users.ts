// Users: address -> user resolution (qmail-users(5), qmail-newu, qmail-getpw, qmail-pw2u) and the
// exit codes qmail-getpw and qmail-lspawn's delivery child share (notqmail qlx.h).
// Facts: ../shared/spec/local.md sections 1.2-1.7; sources notqmail qmail-newu.c, qmail-getpw.c,
// qmail-pw2u.c, qmail-lspawn.c, maildirmake.c.

/** qlx.h: exit codes of qmail-getpw and of qmail-lspawn's child, and what lspawn reports for them.
 *  0, 100 and 111 are qmail-local's own success, permanent and temporary codes. */
export const qlx = {
  ok: 0,
  /** qmail-getpw with no argument; also qmail-local's permanent failure. */
  usageGetpw: 100,
  /** Defined by qmail, never used; lspawn reports it with the default 'D'. */
  bug: 101,
  /** Internal error: chdir home, setuid/setgid, a record with fewer than 6 fields. */
  usage: 112,
  /** The resolved user has uid 0 after setuid. */
  root: 113,
  /** stat(home) failed with a temporary error in qmail-getpw. */
  nfs: 115,
  /** No user matched and the catch-all user `alias` does not exist. */
  noAlias: 116,
  /** users/cdb unreadable (other than ENOENT), corrupt, or without its wildchars record. */
  cdb: 117,
  /** Temporary system failure (pipe, fork, getpwnam ETXTBSY, qmail-getpw crashed). */
  sys: 118,
  noMem: 119,
  /** exec of qmail-local failed with a temporary errno. */
  execSoft: 120,
  /** exec of qmail-getpw failed. */
  execPw: 121,
  /** indimail: chdir("/") failed. */
  dir: 122,
  /** exec of qmail-local failed permanently. */
  execHard: 126,
  /** indimail: setting uid, gid or groups failed. */
  uidGid: 127,
} as const;

export type QlxCode = (typeof qlx)[keyof typeof qlx];

/** qmail-lspawn's report for a qlx code (letter first; replaces qmail-local's output). */
export const qlxReports: Readonly<Record<number, string>> = {
  [qlx.cdb]: 'ZTrouble reading users/cdb in qmail-lspawn.\n',
  [qlx.noMem]: 'ZOut of memory in qmail-lspawn.\n',
  [qlx.sys]: 'ZTemporary failure in qmail-lspawn.\n',
  [qlx.noAlias]: 'ZUnable to find alias user!\n',
  [qlx.root]: 'ZNot allowed to perform deliveries as root.\n',
  [qlx.usage]: 'ZInternal qmail-lspawn bug.\n',
  [qlx.nfs]: 'ZNFS failure in qmail-local.\n',
  [qlx.execHard]: 'DUnable to run qmail-local.\n',
  [qlx.execSoft]: 'ZUnable to run qmail-local.\n',
  [qlx.execPw]: 'ZUnable to run qmail-getpw.\n',
  [qlx.dir]: 'ZUnable to cd to root directory.\n',
};

/** conf-users line 1: the catch-all user of qmail-getpw and qmail-pw2u. */
export const aliasUser = 'alias';

/** conf-break: the user-extension delimiter (qmail-getpw, qmail-pw2u). */
export const autoBreak = '-';

/** qmail-getpw's GETPW_USERLEN: a candidate user name is shorter than this (at most 31 bytes). */
export const getpwUserBytes = 32;

/** users/ paths, relative to the qmail home. */
export const usersFiles = {
  assign: 'users/assign',
  cdb: 'users/cdb',
  cdbTmp: 'users/cdb.tmp',
  include: 'users/include',
  exclude: 'users/exclude',
  mailnames: 'users/mailnames',
  subusers: 'users/subusers',
  append: 'users/append',
} as const;

/** qmail-newu's umask while it writes users/cdb.tmp (the file ends up 0644). */
export const newuUmask = 0o033;

/** The cdb format's own limit: every position is a 32-bit unsigned integer. */
export const cdbBytesMax = 0xffff_ffff;

/** How much of users/cdb an in-process lookup reads into memory (about 4 million users); a larger
 *  file is a QLX_CDB trouble, not a crash. qmail seeks instead and has no bound. */
export const usersCdbBytesMax = 512 * 1024 * 1024;

/** Longest line qmail-newu and qmail-pw2u read (users/assign, passwd, users/subusers); a longer
 *  one ends them with their "out of memory" fatal, which is where qmail's unbounded lines end. */
export const usersLineBytesMax = 1024 * 1024;

/** qmail-lspawn reads at most this much of qmail-getpw's output per read (slurpclose(..., 128));
 *  the total is unbounded there. We bound it: six fields of a sane passwd entry fit easily. */
export const getpwOutputBytesMax = 64 * 1024;

/** qmail-newu's fatal messages (all exit 111). */
export const newuFatal = {
  chdir: 'qmail-newu: fatal: unable to chdir\n',
  noMem: 'qmail-newu: fatal: out of memory\n',
  openAssign: 'qmail-newu: fatal: unable to open users/assign\n',
  readAssign: 'qmail-newu: fatal: unable to read users/assign\n',
  format: 'qmail-newu: fatal: bad format in users/assign\n',
  openTmp: 'qmail-newu: fatal: unable to open users/cdb.tmp\n',
  writeTmp: 'qmail-newu: fatal: unable to write users/cdb.tmp\n',
  rename: 'qmail-newu: fatal: unable to move users/cdb.tmp to users/cdb\n',
  /** Ours: qmail does not fsync the directory after the rename. */
  syncDir: 'qmail-newu: fatal: unable to sync users\n',
} as const;

export const newuExit = { ok: 0, temp: 111 } as const;

/** qmail-pw2u's fatal messages (exit 111) and its usage exit (an unknown option: 100). The pairs
 *  go around a name (bytes from the passwd file): [before, after]. */
export const pw2uFatal = {
  chdir: 'qmail-pw2u: fatal: unable to chdir\n',
  noMem: 'qmail-pw2u: fatal: out of memory\n',
  read: 'qmail-pw2u: fatal: unable to read input\n',
  write: 'qmail-pw2u: fatal: unable to write output\n',
  control: 'qmail-pw2u: fatal: unable to read controls\n',
  alias: ['qmail-pw2u: fatal: unable to find ', ' user\n'],
  home: ['qmail-pw2u: fatal: unable to stat ', '\n'],
  subuser: ['qmail-pw2u: fatal: unable to find ', ' user for subuser\n'],
} as const;

export const pw2uExit = { ok: 0, usage: 100, temp: 111 } as const;

/** maildirmake (notqmail maildirmake.c): usage exits 100, everything else 111. */
export const maildirmakeUsage = 'maildirmake: usage: maildirmake name\n';
export const maildirmakeExit = { ok: 0, usage: 100, temp: 111 } as const;
export const maildirMode = 0o700;
