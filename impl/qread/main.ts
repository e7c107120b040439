// qmail-qread: list the messages in the queue (mailq), byte for byte as notqmail's qmail-qread.
//
// Usage:   qmail-qread
// Runs as: root or qmails (info/, local/, remote/ and bounce/ are qmails' 0700 directories).
// Input:   the queue: $QUEUEDIR or $QMAILHOME/queue, split from the configuration
//          (impl/shared/queue-config.ts). Scans info/0 .. info/(split-1) in directory order.
// Output:  stdout, per message with an info file:
//            <date> GMT  #<id>  <size>  <<sender>> [ bouncing]
//          date from info's mtime (date822 without " -0000"), size of mess, sender from info's
//          F record, " bouncing" when bounce/<id> exists; then a line per recipient from local/
//          and remote/ ("\tlocal\t<addr>", "\tremote\t<addr>", prefixed "  done" once delivered).
//          Bytes outside 32..126 print as '_'. A message that cannot be read prints
//          "warning: trouble with #<id>: <error>" instead (or after its stats, for a channel file).
// Exit:    0 listed (even with warnings); 111 "fatal: unable to chdir: <error>",
//          "fatal: unable to opendir info/<n>: <error>", or "fatal: out of memory" (qmail's words
//          for a failed read of an info file, kept for compatibility).
// Crash safety: read-only; it never changes the queue.

import type { Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import { messagePath, type QueueLayout } from '../../spec/queue.ts';
import { errorStr } from '../lib/error-str.ts';
import { BufferedWriter, readAll } from '../shared/fdio.ts';
import { qmailHome, queueLayout } from '../shared/queue-config.ts';
import { cString } from './printable.ts';
import { recipientLines, type Channel } from './recipients.ts';
import { statsLine } from './stats-line.ts';

const exit = { ok: 0, fatal: 111 } as const;
const ascii = new TextEncoder();

/** qmail's die(): the reason goes to stdout, after everything printed so far. */
class Fatal extends Error {}

export async function main(sys: Sys): Promise<number> {
  const out = new BufferedWriter(sys, 1);
  const say = (text: string): Promise<void> => out.write(ascii.encode(text));
  try {
    const layout = await queueLayout(sys, qmailHome(sys));
    if ('error' in layout) throw new Fatal(`fatal: unable to read configuration: ${layout.error}\n`);
    await chdirOrDie(sys, layout.dir);
    await listQueue(sys, layout, out);
  } catch (e) {
    if (!(e instanceof Fatal)) throw e;
    await say(e.message);
    await out.flush();
    return exit.fatal;
  }
  await out.flush();
  return exit.ok;
}

async function chdirOrDie(sys: Sys, dir: string): Promise<void> {
  try {
    await sys.proc.chdir(dir);
  } catch (e) {
    if (e instanceof SysError) throw new Fatal(`fatal: unable to chdir: ${errorStr(e.code)}\n`);
    throw e;
  }
}

async function listQueue(sys: Sys, layout: QueueLayout, out: BufferedWriter): Promise<void> {
  for (let s = 0; s < layout.split; s++) {
    const dir = `info/${s}`;
    let names: string[];
    try {
      names = await sys.fs.readdir(dir);
    } catch (e) {
      if (e instanceof SysError) throw new Fatal(`fatal: unable to opendir ${dir}: ${errorStr(e.code)}\n`);
      throw e;
    }
    // readsubdir_next: a name that is not all digits is skipped.
    for (const name of names) if (/^[0-9]+$/.test(name)) await listMessage(sys, layout, Number(name), out);
  }
}

async function listMessage(sys: Sys, layout: QueueLayout, id: number, out: BufferedWriter): Promise<void> {
  const trouble = (e: SysError): Promise<void> => out.write(ascii.encode(`warning: trouble with #${id}: ${errorStr(e.code)}\n`));
  const path = (dir: string): string => messagePath(dir, id, layout);
  let size: number;
  let bouncing: boolean;
  let info: { sender: Uint8Array; mtimeMs: number };
  try {
    size = (await sys.fs.stat(path('mess'))).size;
    bouncing = await exists(sys, path('bounce'));
    info = await readInfo(sys, path('info'));
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return trouble(e);
  }
  await out.write(statsLine({ queuedMs: info.mtimeMs, id, size, sender: info.sender, bouncing }));
  for (const channel of ['local', 'remote'] as const) await listChannel(sys, channel, path(channel), out, trouble);
}

async function exists(sys: Sys, path: string): Promise<boolean> {
  try {
    await sys.fs.stat(path);
    return true;
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
}

/** The sender (after the record's first byte, up to its NUL) and the file's mtime. An open or
 *  fstat failure is trouble with this message; a read failure is qmail's die_nomem. */
async function readInfo(sys: Sys, path: string): Promise<{ sender: Uint8Array; mtimeMs: number }> {
  const fd = await sys.fs.open(path, O.RDONLY);
  try {
    const bytes = await readOrDie(sys, fd);
    const st = await sys.fs.fstat(fd);
    return { sender: cString(bytes.subarray(1)), mtimeMs: st.mtimeMs };
  } finally {
    await sys.fs.close(fd);
  }
}

/** A read failure is qmail-qread's die_nomem: the whole listing stops. */
async function readOrDie(sys: Sys, fd: number): Promise<Uint8Array> {
  try {
    return await readAll(sys, fd);
  } catch (e) {
    if (e instanceof SysError) throw new Fatal('fatal: out of memory\n');
    throw e;
  }
}

async function listChannel(
  sys: Sys,
  channel: Channel,
  path: string,
  out: BufferedWriter,
  trouble: (e: SysError) => Promise<void>,
): Promise<void> {
  let fd: number;
  try {
    fd = await sys.fs.open(path, O.RDONLY);
  } catch (e) {
    if (isSysError(e, 'ENOENT')) return; // no recipients on this channel
    if (e instanceof SysError) return trouble(e);
    throw e;
  }
  try {
    const bytes = await readOrDie(sys, fd);
    await out.write(recipientLines(channel, bytes));
  } finally {
    await sys.fs.close(fd);
  }
}
