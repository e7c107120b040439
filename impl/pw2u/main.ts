// qmail-pw2u: build address assignments (users/assign format) from a passwd file
// (notqmail qmail-pw2u.c, qmail-pw2u.8).
//
// Usage:   qmail-pw2u [-/ohHuUC] [-c char] < passwd > assign      (options: ./options.ts)
// Runs as: anyone who can stat the homes (root, usually: `qmail-pw2u < /etc/passwd > users/assign`).
// Input:   fd 0, V7 passwd lines user:password:uid:gid:gecos:home:shell. From <QMAILHOME>/users/:
//          include (only these users), exclude (not these), mailnames (user:name1:name2:...,
//          replacement names), subusers (sub:user:pre: extra addresses), append (copied at the end).
// Output:  fd 1: for each kept account (uid != 0; no uppercase unless -u; include/exclude; home
//          exists and is owned by the uid unless -H), `=name:user:uid:gid:home:::` and
//          `+name-:user:uid:gid:home:-::` per mail name; for the account `alias` first the
//          catch-all `+:alias:uid:gid:home:-::`; then the subusers lines, users/append, and `.`.
// Exit:    0 done; 100 bad option (sgetopt's message on fd 2); 111 with a fatal on fd 2
//          (spec/users.ts pw2uFatal): unable to chdir, read input, write output, read controls
//          (include/exclude/mailnames/subusers/append other than missing), find alias user (no
//          alias account kept), stat home (a stat error other than ENOENT; any, with -h), find
//          USER user for subuser; out of memory (a line over usersLineBytesMax).
// Crash safety: writes only to fd 1; nothing to undo. Stdout is buffered: on a fatal error the
//          output so far may be incomplete (qmail flushes every 8 KiB; we flush every 64 KiB).

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { aliasUser, autoBreak, pw2uExit, pw2uFatal, usersFiles, usersLineBytesMax } from '../../spec/users.ts';
import { BufferedWriter, writeAll } from '../shared/fdio.ts';
import { getln, LineTooLong } from '../shared/getln.ts';
import { qmailHome } from '../shared/queue-config.ts';
import { accountLines, ascii, hasUpper, join, mailNames, parseAccount, parseSubuser, subuserLines, uugh, type Account } from './account.ts';
import { lowerAscii, type ConstMap } from '../lib/constmap.ts';
import { latin1, latin1Bytes } from '../lib/latin1.ts';
import { controlMap } from './control-file.ts';
import { parsePw2uArgs, type Pw2uOptions } from './options.ts';

/** A fatal: its exact message bytes (a home or user name may be any bytes). */
class Pw2uFailure extends Error {
  constructor(readonly text: Uint8Array) {
    super('qmail-pw2u: fatal');
  }
}

const fatal = (s: string): Pw2uFailure => new Pw2uFailure(ascii(s));
const fatalAround = ([before, after]: readonly [string, string], name: Uint8Array): Pw2uFailure => new Pw2uFailure(join([ascii(before), name, ascii(after)]));
const decoder = new TextDecoder();
const aliasBytes = ascii(aliasUser);

export async function main(sys: Sys): Promise<number> {
  const args = parsePw2uArgs(sys.proc.self.argv, autoBreak);
  if ('problem' in args) {
    await writeAll(sys, 2, ascii(args.problem));
    return pw2uExit.usage;
  }
  try {
    await pw2u(sys, args.opts);
    return pw2uExit.ok;
  } catch (e) {
    if (!(e instanceof Pw2uFailure)) throw e;
    await writeAll(sys, 2, e.text);
    return pw2uExit.temp;
  }
}

interface Controls {
  include: ConstMap | null;
  exclude: ConstMap | null;
  mailnames: ConstMap | null;
}

async function pw2u(sys: Sys, opts: Pw2uOptions): Promise<void> {
  await step(pw2uFatal.chdir, () => sys.proc.chdir(qmailHome(sys)));
  const read = (path: string, flagColon: boolean): Promise<ConstMap | null> => step(pw2uFatal.control, () => controlMap(sys, path, flagColon));
  const controls: Controls = {
    include: await read(usersFiles.include, false),
    exclude: await read(usersFiles.exclude, false),
    mailnames: await read(usersFiles.mailnames, true),
  };
  const out = new BufferedWriter(sys, 1);
  const put = (bytes: Uint8Array): Promise<void> => step(pw2uFatal.write, () => out.write(bytes));
  const allUsers = new Map<string, Uint8Array>();
  let sawAlias = false;
  for await (const line of lines(sys, 0)) {
    const a = parseAccount(line);
    if (a === null || !(await accepted(sys, a, opts, controls))) continue;
    const u = uugh(a);
    allUsers.set(lowerAscii(latin1(a.user)), u); // constmap: the later account of a name wins
    const isAlias = sameBytes(a.user, aliasBytes);
    sawAlias ||= isAlias;
    const mailnames = controls.mailnames?.get(latin1(a.user));
    const names = mailNames(mailnames === undefined ? a.user : latin1Bytes(mailnames));
    await put(accountLines(a, u, names, isAlias, ascii(opts.dashColon), opts.breakByte));
  }
  if (!sawAlias) throw fatalAround(pw2uFatal.alias, aliasBytes);
  await subusers(sys, allUsers, opts, put);
  await append(sys, put);
  await put(ascii('.\n'));
  await step(pw2uFatal.write, () => out.flush());
}

/** qmail-getpw's rules, as switched by the options and users/include, users/exclude. */
async function accepted(sys: Sys, a: Account, opts: Pw2uOptions, c: Controls): Promise<boolean> {
  if (a.uid === 0n) return false;
  if (opts.noUpper && hasUpper(a.user)) return false;
  if (c.include !== null && !c.include.has(latin1(a.user))) return false;
  if (c.exclude !== null && c.exclude.has(latin1(a.user))) return false;
  if (opts.homeStrategy === 0) return true;
  try {
    return BigInt((await sys.fs.stat(decoder.decode(a.home))).uid) === a.uid;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    if (e.code !== 'ENOENT' || opts.homeStrategy === 1) throw fatalAround(pw2uFatal.home, a.home);
    return false;
  }
}

/** users/subusers; `users` maps each kept account's lowercased name to its uugh. */
async function subusers(sys: Sys, users: ReadonlyMap<string, Uint8Array>, opts: Pw2uOptions, put: (b: Uint8Array) => Promise<void>): Promise<void> {
  const fd = await openOrNull(sys, usersFiles.subusers);
  if (fd === null) return;
  try {
    for await (const line of lines(sys, fd)) {
      const s = parseSubuser(line);
      if (s === null) continue;
      const u = users.get(lowerAscii(latin1(s.user)));
      if (u === undefined) throw fatalAround(pw2uFatal.subuser, s.user);
      if (s.pre === null) continue;
      await put(subuserLines({ sub: s.sub, user: s.user, pre: s.pre }, u, ascii(opts.dashColon), opts.breakByte));
    }
  } finally {
    await sys.fs.close(fd);
  }
}

/** users/append, copied as it is. */
async function append(sys: Sys, put: (b: Uint8Array) => Promise<void>): Promise<void> {
  const fd = await openOrNull(sys, usersFiles.append);
  if (fd === null) return;
  try {
    for await (const line of lines(sys, fd)) await put(line);
  } finally {
    await sys.fs.close(fd);
  }
}

/** getln's lines, with read errors and overlong lines as their fatals. */
async function* lines(sys: Sys, fd: Fd): AsyncGenerator<Uint8Array> {
  try {
    for await (const l of getln(sys, fd, usersLineBytesMax)) yield l.line;
  } catch (e) {
    if (e instanceof SysError) throw fatal(pw2uFatal.read);
    if (e instanceof LineTooLong) throw fatal(pw2uFatal.noMem);
    throw e;
  }
}

async function openOrNull(sys: Sys, path: string): Promise<Fd | null> {
  try {
    return await sys.fs.open(path, O.RDONLY);
  } catch (e) {
    if (e instanceof SysError && e.code === 'ENOENT') return null;
    if (e instanceof SysError) throw fatal(pw2uFatal.control);
    throw e;
  }
}

async function step<T>(message: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SysError) throw fatal(message);
    throw e;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}
