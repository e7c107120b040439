// smtp() of qmail-remote.c: greeting, HELO, MAIL, RCPT per recipient, DATA, the message, the final
// reply, QUIT (its reply not awaited). Recipient records go to out as they are decided; the return
// value is the message record. A dropped connection is "connection died", "Possible duplicate!" once
// the final dot has gone out (flagcritical).

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { droppedReport, quitTexts, recipientRejectText, remoteReports, remoteTextPrefix, type QuitKind } from '../../spec/remote.ts';
import { Blaster } from './blast.ts';
import { Dropped, SmtpConn } from './conn.ts';

/** The queued message, read by position (Node has no lseek; qmail-remote reads fd 0 from 0). */
export interface MessageSource {
  read(buf: Uint8Array, position: number): Promise<number>;
}

export interface Dialogue {
  sys: Sys;
  conn: SmtpConn;
  ip: string;
  helohost: string;
  /** Already mangled (quoted) addresses. */
  sender: string;
  recips: readonly string[];
  message: MessageSource;
  /** Recipient records (without NUL), in order. */
  out: string[];
}

const messageChunkBytes = 65_536;
class ReadFailed extends Error {}

function textOf(conn: SmtpConn): string {
  if (conn.text.length === 0) return '';
  return remoteTextPrefix + String.fromCharCode(...conn.text.map((c) => (c === 0 ? 0x3f : c)));
}

export async function smtp(d: Dialogue): Promise<string> {
  let critical = false;
  try {
    return await dialogue(d, () => {
      critical = true;
    });
  } catch (e) {
    if (e instanceof Dropped) {
      d.sys.log.event('info', 'remote.dropped', { ip: d.ip, why: e.why, critical });
      return droppedReport(d.ip, critical);
    }
    if (e instanceof ReadFailed) return remoteReports.readMessage;
    throw e;
  } finally {
    await d.conn.close();
  }
}

async function dialogue(d: Dialogue, markCritical: () => void): Promise<string> {
  const { conn } = d;
  const quit = async (kind: QuitKind): Promise<string> => {
    const [prepend, append] = quitTexts[kind];
    const text = `${prepend}${d.ip}${append}.\n${textOf(conn)}`;
    conn.put('QUIT\r\n');
    await conn.flush().catch(() => undefined); // "waiting for remote side is just too ridiculous"
    return text;
  };
  if ((await conn.code()) !== 220) return quit('greeting');
  conn.put(`HELO ${d.helohost}\r\n`);
  await conn.flush();
  if ((await conn.code()) !== 250) return quit('helo');
  conn.put(`MAIL FROM:<${d.sender}>\r\n`);
  await conn.flush();
  let code = await conn.code();
  if (code >= 500) return quit('senderPerm');
  if (code >= 400) return quit('senderTemp');
  let bother = false;
  for (const r of d.recips) {
    conn.put(`RCPT TO:<${r}>\r\n`);
    await conn.flush();
    code = await conn.code();
    if (code >= 400) {
      d.out.push(`${code >= 500 ? 'h' : 's'}${d.ip}${recipientRejectText}${textOf(conn)}`);
      conn.text = []; // outsmtptext empties smtptext
    } else {
      d.out.push('r');
      bother = true;
    }
  }
  if (!bother) return quit('givingUp');
  conn.put('DATA\r\n');
  await conn.flush();
  code = await conn.code();
  if (code >= 500) return quit('dataPerm');
  if (code >= 400) return quit('dataTemp');
  const partial = await blast(d);
  if (partial !== null) return partial;
  markCritical();
  conn.put('.\r\n');
  await conn.flush();
  code = await conn.code();
  if (code >= 500) return quit('afterPerm');
  if (code >= 400) return quit('afterTemp');
  return quit('accepted');
}

/** The message through Blaster; a partial final line is perm_partialline (no QUIT, as in C). */
async function blast(d: Dialogue): Promise<string | null> {
  const b = new Blaster();
  const buf = new Uint8Array(messageChunkBytes);
  for (let pos = 0; ; ) {
    let n: number;
    try {
      n = await d.message.read(buf, pos);
    } catch (e) {
      if (e instanceof SysError) throw new ReadFailed();
      throw e;
    }
    if (n === 0) break;
    pos += n;
    d.conn.put(b.push(buf.subarray(0, n)));
    await d.conn.flush(false);
  }
  const tail = b.end();
  if (tail === 'partial') return remoteReports.partialLine;
  d.conn.put(tail);
  return null;
}
