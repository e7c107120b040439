// The spawn protocol between qmail-send and qmail-lspawn (notqmail's, 1-byte slots), the reports the
// spawner sends, qmail-lspawn's report rule for a qmail-local run, and our own bounds (the delivery
// worker pool, spec/spawn.md).
// Facts: ../shared/spec/local.md 1.1, 1.5, 1.6 and ../shared/spec/queue.md 4.1-4.3 (notqmail spawn.c,
// qmail-lspawn.c); the qlx codes and their reports are users.ts's (qlx.h).

import { qlx, qlxReports } from './users.ts';

/** conf-spawn: the concurrency byte qmail-lspawn writes at start, and the number of slots (delnums
 *  0 .. spawnConcurrency-1). notqmail's protocol carries it in one byte: at most 255. */
export const spawnConcurrency = 120;
/** A messid (`S/ID` below queue/mess) is at most this long (spawn.c). */
export const messidBytesMax = 100;
/** truncreport of qmail-lspawn: longer qmail-local output is cut (truncateReport). */
export const truncReportBytes = 3000;
export const truncReportSuffix = '\nError report too long, sorry.\n';
/** How much of truncReportBytes the kept output may use: 3000 - 31 - 3 = 2966 (spawn.c). */
export const truncReportKeepBytes = truncReportBytes - truncReportSuffix.length - 3;

/** Reports of the spawn framework itself, before any qmail-local runs (spawn.c docmd). */
export const spawnReports = {
  noMem: 'Zqmail-spawn out of memory. (#4.3.0)\n',
  /** Unreachable with 1-byte slots; kept so that the table is whole. */
  delnumNegative: 'ZInternal error: delnum negative. (#4.3.5)\n',
  delnumTooBig: 'ZInternal error: delnum too big. (#4.3.5)\n',
  delnumInUse: 'ZInternal error: delnum in use. (#4.3.5)\n',
  messidNonnumerics: 'DInternal error: messid has nonnumerics. (#5.3.5)\n',
  messidTooLong: 'DInternal error: messid too long. (#5.3.5)\n',
  messidTooShort: 'DInternal error: messid too short. (#5.3.5)\n',
  noHost: 'DSorry, address must include host name. (#5.1.3)\n',
  openMessage: 'Zqmail-spawn unable to open message. (#4.3.0)\n',
  fstatMessage: 'Zqmail-spawn unable to fstat message. (#4.3.0)\n',
  wrongType: 'ZSorry, message has wrong type. (#4.3.5)\n',
  wrongOwner: 'ZSorry, message has wrong owner. (#4.3.5)\n',
  pipe: 'Zqmail-spawn unable to create pipe. (#4.3.0)\n',
  fork: 'Zqmail-spawn unable to fork. (#4.3.0)\n',
} as const;

export type SpawnReport = (typeof spawnReports)[keyof typeof spawnReports];

/** qmail-lspawn's report when qmail-local died of a signal (or its delivery worker died). */
export const localCrashedReport = 'Zqmail-local crashed.\n';

/** Ours: AUTHSELF asks for indimail's virtual-domain database, which is not built yet: every delivery
 *  that would consult it is deferred, never delivered by guesswork (spec/spawn.md). */
export const authselfDeferReport = 'ZAUTHSELF virtual-domain lookup is not available yet. (#4.3.0)\n';

/** Ours: lspawn reads a message into memory for a worker; a read error defers the delivery. */
export const readMessageReport = 'Zqmail-spawn unable to read message. (#4.3.0)\n';

/** Exit codes of qmail-local that mean "try again later"; 0 is K; every other code is D. */
export const localTempExits: readonly number[] = [111, 71, 74, 75];

export type ReportLetter = 'K' | 'Z' | 'D';

/** The letter for a qmail-local exit code that has no qlx report of its own. */
export function letterOfExit(code: number): ReportLetter {
  if (code === 0) return 'K';
  return localTempExits.includes(code) ? 'Z' : 'D';
}

/** The qlx report replacing qmail-local's output for this exit code, or null (then letter + output). */
export function qlxReportOf(code: number): string | null {
  return qlxReports[code] ?? null;
}

/** truncreport: output longer than truncReportBytes keeps its first truncReportKeepBytes bytes and
 *  gets truncReportSuffix. (spawn.c applies the cut after each 128-byte read, so up to 3 bytes read
 *  after the last cut may follow the suffix there; we cut once, on the whole output.) */
export function truncateReport(output: Uint8Array): Uint8Array {
  if (output.length <= truncReportBytes) return output;
  const suffix = new TextEncoder().encode(truncReportSuffix);
  const out = new Uint8Array(truncReportKeepBytes + suffix.length);
  out.set(output.subarray(0, truncReportKeepBytes));
  out.set(suffix, truncReportKeepBytes);
  return out;
}

/** How qmail-local ended, as qmail-lspawn sees it. */
export type LocalEnd = { code: number } | { crashed: true };

/** The report text for one qmail-local run (qmail-lspawn.c report): crashed → localCrashedReport;
 *  a qlx code → its report alone; otherwise the exit code's letter, then the (truncated) output up to
 *  its first NUL. */
export function localReport(end: LocalEnd, output: Uint8Array): Uint8Array {
  const enc = new TextEncoder();
  if ('crashed' in end) return enc.encode(localCrashedReport);
  const special = qlxReportOf(end.code);
  if (special !== null) return enc.encode(special);
  const kept = truncateReport(output);
  const nul = kept.indexOf(0);
  const text = nul < 0 ? kept : kept.subarray(0, nul);
  const out = new Uint8Array(1 + text.length);
  out[0] = letterOfExit(end.code).charCodeAt(0);
  out.set(text, 1);
  return out;
}

// ---- ours: the delivery worker pool (spec/spawn.md) ----

/** Long-lived delivery workers at most, one per (uid, gid, groups, home). As many as deliveries can
 *  be in flight: then every delivery in flight can have its worker, and a burst to many users never
 *  makes the pool evict a worker that the next delivery needs again (a worker start costs 50-150 ms
 *  of CPU; thrashing a smaller pool drops throughput to the start rate, about 20/s here). The cost is
 *  memory: about 10 MB (idle) to 25 MB (busy) per worker, bench/lspawn.ts. */
export const workerPoolMax = spawnConcurrency;
/** A worker with nothing to do for this long is shut down. */
export const workerIdleMs = 60_000;
/** Deliveries one worker runs at once; more wait for it. */
export const workerDeliveriesMax = 16;
/** A message larger than this is not copied into memory: it goes to a per-delivery qmail-local
 *  process reading the queue file on fd 0, exactly as qmail runs it. */
export const workerMessageBytesMax = 1024 * 1024;
/** A worker frame (arguments, environment, message) is at most this long. */
export const workerFrameBytesMax = workerMessageBytesMax + 256 * 1024;
/** A command from qmail-send longer than this (three addresses and a messid) is answered with
 *  spawnReports.noMem once it ends, as spawn.c does when its buffer cannot grow. */
export const commandBytesMax = 64 * 1024;
/** V8 flags of a worker process (its NODE_OPTIONS): a 1 MB young generation halves a busy worker's
 *  resident memory (about 25 MB instead of 50) at no cost in throughput (bench/lspawn.ts). */
export const workerNodeOptions = '--max-semi-space-size=1';
/** The long-lived programs, which the build starts with daemonNodeFlags in their #! line
 *  (scripts/build.ts): the same 1 MB young generation took the whole MTA's peak from about 377 to
 *  320 MB Pss while draining, with no change in CPU per message (bench/drain.ts, DRAIN_NODE_FLAGS). */
export const daemonPrograms: readonly string[] = ['qmail-start', 'qmail-send', 'todo-proc', 'qmail-clean', 'qmail-lspawn', 'qmail-local-worker', 'qmail-rspawn', 'qmail-rspawn-defer', 'qmail-queued', 'qmail-smtpd'];
export const daemonNodeFlags = workerNodeOptions;
/** The worker's end of its socket pair with lspawn. */
export const workerChannelFd = 3;
/** qmail-local's program name in its argv (qmail-lspawn.c args[0]). */
export const localArgv0 = 'bin/qmail-local';
/** Where the installed programs live, relative to the qmail home. */
export const localProgram = 'bin/qmail-local';
export const workerProgram = 'bin/qmail-local-worker';

/** qlx codes lspawn itself produces, re-exported for readers of this file. */
export { qlx };

export function assertSpawnLimits(): void {
  if (!(spawnConcurrency >= 1 && spawnConcurrency <= 255)) throw new Error('spec: spawnConcurrency must fit one byte');
  if (!(truncReportKeepBytes > 0)) throw new Error('spec: truncReportKeepBytes must be positive');
  if (!(workerFrameBytesMax > workerMessageBytesMax)) throw new Error('spec: worker frames must hold a whole message');
  if (!(workerPoolMax >= 1 && workerDeliveriesMax >= 1)) throw new Error('spec: worker pool bounds');
  if (workerPoolMax > spawnConcurrency) throw new Error('spec: more workers than deliveries in flight is memory for nothing');
}
assertSpawnLimits();
