// The spawn protocol's commands (qmail-send -> spawner; spec/spawn.ts, ../shared/spec/queue.md 4.1):
// one slot byte, then messid\0 sender\0 recipient\0. Parsing and the checks spawn.c makes before it
// starts a delivery, in spawn.c's order. Pure: no Sys.

import { messidBytesMax, spawnConcurrency, spawnReports, type SpawnReport } from '../../spec/spawn.ts';

export interface SpawnCommand {
  delnum: number;
  messid: Uint8Array;
  sender: Uint8Array;
  recipient: Uint8Array;
  /** The command ran past commandBytesMax: its fields were cut, and it is answered with noMem. */
  tooLong: boolean;
}

/** Splits a byte stream into commands. A command longer than the bound keeps only what fits, so a
 *  hostile or broken sender costs bounded memory; the rest of it is skipped up to its third NUL. */
export class CommandReader {
  private delnum: number | null = null;
  private fields: Uint8Array[] = [];
  private current: number[] = [];
  private size = 0;
  private tooLong = false;

  constructor(private readonly commandBytesMax: number) {}

  /** Bytes of a command begun but not finished (EOF there drops it, as spawn.c does). */
  get partial(): boolean {
    return this.delnum !== null;
  }

  push(bytes: Uint8Array): SpawnCommand[] {
    const out: SpawnCommand[] = [];
    for (const b of bytes) {
      if (this.delnum === null) {
        this.delnum = b;
        continue;
      }
      if (b !== 0) {
        if (this.size < this.commandBytesMax) this.current.push(b);
        else this.tooLong = true;
        this.size++;
        continue;
      }
      this.fields.push(Uint8Array.from(this.current));
      this.current = [];
      if (this.fields.length === 3) out.push(this.finish());
    }
    return out;
  }

  private finish(): SpawnCommand {
    const [messid, sender, recipient] = this.fields as [Uint8Array, Uint8Array, Uint8Array];
    const cmd: SpawnCommand = { delnum: this.delnum as number, messid, sender, recipient, tooLong: this.tooLong };
    this.delnum = null;
    this.fields = [];
    this.size = 0;
    this.tooLong = false;
    return cmd;
  }
}

const slash = 0x2f;
const zero = 0x30;
const nine = 0x39;
const at = 0x40;

/** spawn.c docmd's checks before the message is opened; null when the command may run.
 *  (A `/` first in the messid counts as a nonnumeric: ../shared/spec/queue.md 4.1.) */
export function checkCommand(cmd: SpawnCommand, inUse: (delnum: number) => boolean): SpawnReport | null {
  if (cmd.tooLong) return spawnReports.noMem;
  if (cmd.delnum >= spawnConcurrency) return spawnReports.delnumTooBig;
  if (inUse(cmd.delnum)) return spawnReports.delnumInUse;
  const m = cmd.messid;
  for (let i = 0; i < m.length; i++) {
    const c = m[i] as number;
    const digit = c >= zero && c <= nine;
    if (!digit && !(c === slash && i > 0)) return spawnReports.messidNonnumerics;
  }
  if (m.length > messidBytesMax) return spawnReports.messidTooLong;
  if (m.length === 0) return spawnReports.messidTooShort;
  if (cmd.recipient.lastIndexOf(at) < 0) return spawnReports.noHost;
  return null;
}

/** The recipient split at its last `@` (byte_rchr): local part and domain. */
export function splitRecipient(recipient: Uint8Array): { local: Uint8Array; domain: Uint8Array } {
  const i = recipient.lastIndexOf(at);
  if (i < 0) throw new Error('splitRecipient: no @ (checkCommand lets none through)');
  return { local: recipient.subarray(0, i), domain: recipient.subarray(i + 1) };
}
