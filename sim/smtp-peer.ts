// A scripted SMTP server for the simulator: a program that listens with sys.net.listen and answers
// each command as its script says, so qmail-remote's dialogue rules can be tested byte for byte.
// A reply is the exact bytes to send, 'hang' (never answer: the client's timeout must fire) or
// 'reset' (close the connection). Everything received is kept in `sessions`, one per connection.

import type { Address, Program, Sys } from '../impl/sys/types.ts';
import { SysError } from '../impl/sys/errors.ts';
import { writeAll } from '../impl/shared/fdio.ts';

export type PeerReply = string | 'hang' | 'reset';

export interface PeerScript {
  greeting?: PeerReply;
  helo?: PeerReply;
  mail?: PeerReply;
  /** Per recipient: the address inside <>, its index in this session, the session number (0-based). */
  rcpt?: (addr: string, i: number, session: number) => PeerReply;
  data?: PeerReply;
  /** After the final dot; the message counts as received (`messages`) before this reply. */
  final?: (session: number) => PeerReply;
}

export interface PeerSession {
  /** Every byte received, as latin1. */
  received: string;
}

export class SmtpPeer {
  readonly sessions: PeerSession[] = [];
  /** Message bodies as sent (dot-stuffed, CRLF), up to and excluding the final `.\r\n`. */
  readonly messages: string[] = [];

  constructor(
    readonly at: Address,
    readonly script: PeerScript,
  ) {}

  program(): Program {
    return async (sys) => {
      const l = await sys.net.listen(this.at);
      for (;;) {
        const c = await l.accept();
        void this.session(sys, c.fd).catch((e: unknown) => {
          if (!(e instanceof SysError)) throw e;
        });
      }
    };
  }

  private async session(sys: Sys, fd: number): Promise<void> {
    const n = this.sessions.length;
    const s: PeerSession = { received: '' };
    this.sessions.push(s);
    const say = async (r: PeerReply | undefined, def: string): Promise<boolean> => {
      const reply = r ?? def;
      if (reply === 'hang') {
        await new Promise<never>(() => undefined);
      }
      if (reply === 'reset') {
        await sys.fs.close(fd);
        return false;
      }
      await writeAll(sys, fd, latin1Of(reply));
      return true;
    };
    if (!(await say(this.script.greeting, '220 peer ESMTP\r\n'))) return;
    let buf = '';
    let rcpts = 0;
    let inData = false;
    const chunk = new Uint8Array(4096);
    for (;;) {
      const got = await sys.fs.read(fd, chunk, 0, chunk.length, null);
      if (got === 0) return;
      const text = String.fromCharCode(...chunk.subarray(0, got));
      s.received += text;
      buf += text;
      for (;;) {
        if (inData) {
          const end = buf.startsWith('.\r\n') ? 0 : buf.indexOf('\r\n.\r\n');
          if (end < 0) break;
          this.messages.push(end === 0 ? '' : buf.slice(0, end + 2));
          buf = buf.slice(end === 0 ? 3 : end + 5);
          inData = false;
          if (!(await say(this.script.final?.(n), '250 ok\r\n'))) return;
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        let ok = true;
        if (verb === 'HELO') ok = await say(this.script.helo, '250 peer\r\n');
        else if (verb === 'MAIL') ok = await say(this.script.mail, '250 ok\r\n');
        else if (verb === 'RCPT') ok = await say(this.script.rcpt?.(/<(.*)>/.exec(line)?.[1] ?? '', rcpts++, n), '250 ok\r\n');
        else if (verb === 'DATA') {
          const r = this.script.data ?? '354 go ahead\r\n';
          ok = await say(r, '');
          inData = typeof r === 'string' && r.startsWith('3');
        } else if (verb === 'QUIT') {
          await say('221 bye\r\n', '');
          await sys.fs.close(fd);
          return;
        } else ok = await say('502 unimplemented\r\n', '');
        if (!ok) return;
      }
    }
  }
}

function latin1Of(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}
