// D. J. Bernstein's constant database (cdb), as qmail's cdbmss/cdb_seek and tinycdb read and
// write it: users/cdb, morercpthosts.cdb, tcp.smtp.cdb.
//
// Format (all numbers uint32 little-endian):
//   header   256 pairs (pos, slots): where hash table i starts and how many 8-byte slots it has;
//   records  from byte 2048: klen, dlen, key, data, in the order they were added;
//   tables   table i holds 2 * (records whose hash & 255 == i) slots of (hash, record pos); a record
//            goes to slot (hash >>> 8) % slots, or the next free one (wrapping); pos 0 = empty.
// The writer places records in insertion order, as cdbmake_split/cdbmake_throw do, so the bytes
// are identical to qmail-newu's (and to tinycdb's below 254 records per table).
//
// Reading trusts nothing: every position is checked against the file before it is followed, and
// a lookup probes at most the table's slot count, so hostile bytes end in a CdbError
// ('truncated': something points past the end; 'corrupt': an impossible value), never in a
// RangeError, a wrong answer read from outside a record, or a loop.
//
// Values returned are views into the given bytes (no copy): callers must not modify them.

import { cdbBytesMax } from '../../spec/users.ts';

export type CdbFault = 'truncated' | 'corrupt' | 'tooBig';

export class CdbError extends Error {
  constructor(
    readonly fault: CdbFault,
    detail: string,
  ) {
    super(`cdb: ${fault}: ${detail}`);
    this.name = 'CdbError';
  }
}

export const cdbHeaderBytes = 2048;
const tableCount = 256;
const slotBytes = 8;

/** cdb_hash: h = 5381; h = ((h << 5) + h) ^ c, modulo 2^32. */
export function cdbHash(key: Uint8Array): number {
  let h = 5381;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 33) ^ (key[i] as number)) >>> 0;
  return h;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] as number) | ((b[at + 1] as number) << 8) | ((b[at + 2] as number) << 16) | ((b[at + 3] as number) << 24)) >>> 0;
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

function sameBytes(b: Uint8Array, at: number, key: Uint8Array): boolean {
  for (let i = 0; i < key.length; i++) if (b[at + i] !== key[i]) return false;
  return true;
}

/** A validated cdb over bytes in memory. open() checks the header once; lookups check the rest. */
export class CdbReader {
  private constructor(private readonly bytes: Uint8Array) {}

  /** Throws CdbError when the header is short or a table lies outside the file. */
  static open(bytes: Uint8Array): CdbReader {
    if (bytes.length < cdbHeaderBytes) throw new CdbError('truncated', `${bytes.length} bytes, shorter than the header`);
    for (let i = 0; i < tableCount; i++) {
      const pos = u32(bytes, i * 8);
      const slots = u32(bytes, i * 8 + 4);
      if (slots === 0) continue;
      if (pos < cdbHeaderBytes) throw new CdbError('corrupt', `table ${i} at ${pos}, inside the header`);
      if (pos + slots * slotBytes > bytes.length) throw new CdbError('truncated', `table ${i} ends past ${bytes.length}`);
    }
    return new CdbReader(bytes);
  }

  get size(): number {
    return this.bytes.length;
  }

  /** The first value stored under key (cdb_seek), or null. */
  find(key: Uint8Array): Uint8Array | null {
    for (const v of this.findAll(key)) return v;
    return null;
  }

  /** Every value stored under key, in the order they were added. */
  *findAll(key: Uint8Array): Generator<Uint8Array> {
    const b = this.bytes;
    const h = cdbHash(key);
    const head = (h & 255) * 8;
    const table = u32(b, head);
    const slots = u32(b, head + 4);
    if (slots === 0) return;
    let slot = (h >>> 8) % slots;
    for (let probe = 0; probe < slots; probe++) {
      const at = table + slot * slotBytes;
      const rpos = u32(b, at + 4);
      if (rpos === 0) return;
      if (u32(b, at) === h) {
        const rec = this.record(rpos, b.length);
        if (rec.klen === key.length && sameBytes(b, rec.keyAt, key)) yield b.subarray(rec.keyAt + rec.klen, rec.end);
      }
      if (++slot === slots) slot = 0;
    }
  }

  /** Every record, in file order (cdbdump): from the header up to where table 0 starts. */
  *records(): Generator<[Uint8Array, Uint8Array]> {
    const b = this.bytes;
    const eod = u32(b, 0);
    if (eod < cdbHeaderBytes) throw new CdbError('corrupt', `end of data ${eod} inside the header`);
    if (eod > b.length) throw new CdbError('truncated', `end of data ${eod} past ${b.length}`);
    let pos = cdbHeaderBytes;
    while (pos < eod) {
      const rec = this.record(pos, eod);
      yield [b.subarray(rec.keyAt, rec.keyAt + rec.klen), b.subarray(rec.keyAt + rec.klen, rec.end)];
      pos = rec.end;
    }
  }

  /** The record at pos, which must lie between the header and limit. */
  private record(pos: number, limit: number): { keyAt: number; klen: number; end: number } {
    if (pos < cdbHeaderBytes) throw new CdbError('corrupt', `record at ${pos}, inside the header`);
    if (pos + 8 > limit) throw new CdbError(limit === this.bytes.length ? 'truncated' : 'corrupt', `record header at ${pos} crosses ${limit}`);
    const klen = u32(this.bytes, pos);
    const dlen = u32(this.bytes, pos + 4);
    const end = pos + 8 + klen + dlen;
    if (end > limit) throw new CdbError(limit === this.bytes.length ? 'truncated' : 'corrupt', `record at ${pos} ends at ${end}, past ${limit}`);
    return { keyAt: pos + 8, klen, end };
  }
}

/** The first value for key in the cdb bytes, or null. Throws CdbError on a bad file. */
export function cdbFind(bytes: Uint8Array, key: Uint8Array): Uint8Array | null {
  return CdbReader.open(bytes).find(key);
}

/** Every value for key, in insertion order. Throws CdbError on a bad file. */
export function cdbFindAll(bytes: Uint8Array, key: Uint8Array): Uint8Array[] {
  return [...CdbReader.open(bytes).findAll(key)];
}

/** Every [key, value] record in file order. Throws CdbError on a bad file. */
export function cdbRecords(bytes: Uint8Array): [Uint8Array, Uint8Array][] {
  return [...CdbReader.open(bytes).records()];
}

/** cdbmake/cdbmss: records are added in order, then finish() lays out the file. */
export class CdbMaker {
  private readonly keys: Uint8Array[] = [];
  private readonly values: Uint8Array[] = [];
  private readonly hashes: number[] = [];
  private dataBytes = 0;

  add(key: Uint8Array, value: Uint8Array): void {
    this.dataBytes += 8 + key.length + value.length;
    if (this.totalBytes() > cdbBytesMax) throw new CdbError('tooBig', `more than ${cdbBytesMax} bytes`);
    this.keys.push(key);
    this.values.push(value);
    this.hashes.push(cdbHash(key));
  }

  get count(): number {
    return this.keys.length;
  }

  private totalBytes(): number {
    return cdbHeaderBytes + this.dataBytes + 2 * slotBytes * (this.keys.length + 1);
  }

  finish(): Uint8Array {
    const n = this.keys.length;
    const out = new Uint8Array(cdbHeaderBytes + this.dataBytes + 2 * slotBytes * n);
    const positions = new Array<number>(n);
    let pos = cdbHeaderBytes;
    for (let i = 0; i < n; i++) {
      const key = this.keys[i] as Uint8Array;
      const value = this.values[i] as Uint8Array;
      positions[i] = pos;
      putU32(out, pos, key.length);
      putU32(out, pos + 4, value.length);
      out.set(key, pos + 8);
      out.set(value, pos + 8 + key.length);
      pos += 8 + key.length + value.length;
    }
    const byTable: number[][] = Array.from({ length: tableCount }, () => []);
    for (let i = 0; i < n; i++) (byTable[(this.hashes[i] as number) & 255] as number[]).push(i);
    for (let t = 0; t < tableCount; t++) pos = this.throwTable(out, t, byTable[t] as number[], positions, pos);
    if (pos !== out.length) throw new Error(`cdbMake: laid out ${pos} of ${out.length} bytes`);
    return out;
  }

  /** cdbmake_throw: writes table t at pos in insertion order with linear probing; returns its end. */
  private throwTable(out: Uint8Array, t: number, members: number[], positions: number[], pos: number): number {
    const slots = members.length * 2;
    putU32(out, t * 8, pos);
    putU32(out, t * 8 + 4, slots);
    for (const i of members) {
      const h = this.hashes[i] as number;
      let slot = (h >>> 8) % slots;
      while (u32(out, pos + slot * slotBytes + 4) !== 0) if (++slot === slots) slot = 0;
      putU32(out, pos + slot * slotBytes, h);
      putU32(out, pos + slot * slotBytes + 4, positions[i] as number);
    }
    return pos + slots * slotBytes;
  }
}

/** The cdb holding these records in this order (duplicates kept, the first found first). */
export function cdbMake(records: Iterable<readonly [Uint8Array, Uint8Array]>): Uint8Array {
  const maker = new CdbMaker();
  for (const [k, v] of records) maker.add(k, v);
  return maker.finish();
}
