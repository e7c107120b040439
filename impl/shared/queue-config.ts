// Where the installation and the queue are, and the queue's layout (split, BIGTODO).
//
// Trust: a program started through a setuid helper (real uid != effective uid) runs with the queue
// owner's rights on behalf of someone else, so it takes NOTHING from the environment that could
// point it elsewhere: its home comes from where it is installed (sys.proc.self.exe), the queue is
// <home>/queue, and split/BIGTODO come from the installation's control files. Everyone else (root,
// the qmail users, tests) may set QMAILHOME, QUEUEDIR, CONFSPLIT and BIGTODO as indimail allows.
//
// Installation settings (written by qmail-setup): control/conf-split (decimal, default 151),
// control/conf-bigtodo (0 or 1, default 0).

import type { Sys } from '../sys/types.ts';
import { autoSplit, defaultQmailHome, parseBigtodo, parseSplit, type QueueLayout } from '../../spec/queue.ts';
import { readControlLine } from './fdio.ts';

export function isSetuidInvocation(sys: Sys): boolean {
  const self = sys.proc.self;
  return self.uid !== self.euid || self.gid !== self.egid;
}

/** The installation a program file belongs to: <home>/bin/<prog> or <home>/libexec/<prog>. */
export function homeOfExe(exe: string): string | null {
  // A delivery worker asks for every delivery, always with the same exe.
  if (exe === lastExe.exe) return lastExe.home;
  const home = homeOf(exe);
  lastExe = { exe, home };
  return home;
}

let lastExe: { exe: string; home: string | null } = { exe: '', home: null };

function homeOf(exe: string): string | null {
  const parts = exe.split('/');
  if (parts.length < 4 || parts[0] !== '') return null;
  const dir = parts[parts.length - 2];
  if (dir !== 'bin' && dir !== 'libexec') return null;
  return parts.slice(0, -2).join('/') || '/';
}

export function qmailHome(sys: Sys): string {
  const fromExe = homeOfExe(sys.proc.self.exe);
  if (isSetuidInvocation(sys)) {
    if (fromExe === null) throw new Error(`cannot tell the installation of setuid program ${sys.proc.self.exe}`);
    return fromExe;
  }
  const env = sys.proc.self.env['QMAILHOME'];
  if (env !== undefined && env !== '') return env;
  return fromExe ?? defaultQmailHome;
}

export type LayoutError = { error: 'bad-confsplit' | 'bad-conf-split-file'; detail: string };

/** Resolves the queue directory and layout. Relative QUEUEDIR is taken relative to home. */
export async function queueLayout(sys: Sys, home: string): Promise<QueueLayout | LayoutError> {
  const trusted = !isSetuidInvocation(sys);
  const env = trusted ? sys.proc.self.env : {};
  const qdir = env['QUEUEDIR'];
  const dir = qdir === undefined || qdir === '' ? `${home}/queue` : qdir.startsWith('/') ? qdir : `${home}/${qdir}`;

  let split = autoSplit;
  const envSplit = env['CONFSPLIT'];
  if (envSplit !== undefined && envSplit !== '') {
    const s = parseSplit(envSplit.trim());
    if (s === null) return { error: 'bad-confsplit', detail: envSplit };
    split = s;
  } else {
    const file = await readControlLine(sys, `${home}/control/conf-split`);
    if (file !== null) {
      const s = parseSplit(file.trim());
      if (s === null) return { error: 'bad-conf-split-file', detail: file };
      split = s;
    }
  }

  const envBig = env['BIGTODO'];
  const bigtodo =
    envBig !== undefined ? parseBigtodo(envBig) : parseBigtodo((await readControlLine(sys, `${home}/control/conf-bigtodo`)) ?? undefined);
  return { dir: stripSlash(dir), split, bigtodo };
}

function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
