// qmail-newu: prepare address assignments (users/assign) for qmail-lspawn (users/cdb).
//
// Usage:   qmail-newu                 (no arguments; ignores any)
// Runs as: root (the administrator, after editing users/assign); needs write access to users/.
// Input:   <QMAILHOME>/users/assign, read up to its first line starting with '.' (impl/lib/assign.ts).
// Output:  <QMAILHOME>/users/cdb: one record per assignment line, in file order, then the
//          wildchars record (byte for byte what notqmail's qmail-newu writes). Nothing on stdout.
// Exit:    0 done; 111 with qmail's one-line fatal on fd 2 (spec/users.ts newuFatal): unable to
//          chdir, out of memory (a line over usersLineBytesMax), unable to open / read users/assign,
//          bad format in users/assign, unable to open / write users/cdb.tmp, unable to move
//          users/cdb.tmp to users/cdb, and ours, unable to sync users (the directory fsync).
// Crash safety: users/cdb.tmp is written (umask 033: 0644), fsynced and closed, then renamed over
//          users/cdb, then the users directory is fsynced. A crash at any point leaves users/cdb
//          either the old file or the complete new one, never a partial one; a stale users/cdb.tmp
//          is truncated by the next run. qmail itself stops after the rename (no directory fsync).

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { newuExit, newuFatal, newuUmask, usersFiles, usersLineBytesMax } from '../../spec/users.ts';
import { AssignCompiler } from '../lib/assign.ts';
import { CdbError, CdbMaker } from '../lib/cdb.ts';
import { getln, LineTooLong } from '../shared/getln.ts';
import { writeAll } from '../shared/fdio.ts';
import { qmailHome } from '../shared/queue-config.ts';

type Fatal = keyof typeof newuFatal;

/** A named failure: which fatal message, and what caused it (for the log). */
class NewuFailure extends Error {
  constructor(
    readonly fatal: Fatal,
    readonly why?: unknown,
  ) {
    super(newuFatal[fatal]);
  }
}

const ascii = new TextEncoder();

export async function main(sys: Sys): Promise<number> {
  sys.proc.umask(newuUmask);
  try {
    await newu(sys);
    return newuExit.ok;
  } catch (e) {
    if (!(e instanceof NewuFailure)) throw e;
    sys.log.event('warn', `newu.${e.fatal}`, e.why instanceof SysError ? { code: e.why.code, path: e.why.path } : {});
    await writeAll(sys, 2, ascii.encode(newuFatal[e.fatal]));
    return newuExit.temp;
  }
}

async function newu(sys: Sys): Promise<void> {
  await step('chdir', () => sys.proc.chdir(qmailHome(sys)));
  const assign = await step('openAssign', () => sys.fs.open(usersFiles.assign, O.RDONLY));
  try {
    const tmp = await step('openTmp', () => sys.fs.open(usersFiles.cdbTmp, O.WRONLY | O.CREAT | O.TRUNC, 0o644));
    let closed = false;
    try {
      const cdb = await compile(sys, assign);
      await step('writeTmp', () => writeAll(sys, tmp, cdb));
      await step('writeTmp', () => sys.fs.fsync(tmp));
      closed = true;
      await step('writeTmp', () => sys.fs.close(tmp));
    } finally {
      if (!closed) await sys.fs.close(tmp).catch(ignoreSysError);
    }
  } finally {
    await sys.fs.close(assign).catch(ignoreSysError);
  }
  // users/cdb: the new assignments, visible at once, durable after the directory fsync.
  await step('rename', () => sys.fs.rename(usersFiles.cdbTmp, usersFiles.cdb));
  await step('syncDir', () => sys.fs.syncDir('users'));
}

/** users/assign, read line by line up to its '.' line, as cdb bytes. */
async function compile(sys: Sys, assign: Fd): Promise<Uint8Array> {
  const maker = new CdbMaker();
  const compiler = new AssignCompiler((k, v) => {
    try {
      maker.add(k, v);
    } catch (e) {
      throw e instanceof CdbError ? new NewuFailure('writeTmp', e) : e;
    }
  });
  let n = 0;
  try {
    for await (const { line, matched } of getln(sys, assign, usersLineBytesMax)) {
      n++;
      const r = compiler.line(line, matched);
      if (r === 'end') return maker.finish();
      if (r === 'format') break;
    }
  } catch (e) {
    if (e instanceof SysError) throw new NewuFailure('readAssign', e);
    if (e instanceof LineTooLong) throw new NewuFailure('noMem', e);
    throw e;
  }
  sys.log.event('warn', 'newu.format_line', { line: n });
  throw new NewuFailure('format');
}

/** Runs one system step; a SysError becomes that step's fatal. */
async function step<T>(fatal: Fatal, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SysError) throw new NewuFailure(fatal, e);
    throw e;
  }
}

function ignoreSysError(e: unknown): void {
  if (!(e instanceof SysError)) throw e;
}
