// cdb reader and writer: layout, round trips, and hostile input (impl/lib/cdb.ts).
// Replay a failing property: SEED=<n> npx vitest run test/lib/cdb.test.ts (printed on failure).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CdbError, CdbMaker, CdbReader, cdbFind, cdbFindAll, cdbHash, cdbHeaderBytes, cdbMake, cdbRecords } from '../../impl/lib/cdb.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/lib/cdb.test.ts';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

/** The hash written the slow way, from its definition. */
function refHash(key: Uint8Array): number {
  let h = 5381n;
  for (const c of key) h = (((h << 5n) + h) ^ BigInt(c)) & 0xffffffffn;
  return Number(h);
}

const smallKey = fc.uint8Array({ maxLength: 6 }).map((b) => b.map((c) => c % 5));
const anyKey = fc.oneof(smallKey, fc.uint8Array({ maxLength: 40 }));
const records = fc.array(fc.tuple(anyKey, fc.uint8Array({ maxLength: 30 })), { maxLength: 60 });

describe('cdb hash', () => {
  it('is 5381 for the empty key and matches the definition', async () => {
    expect(cdbHash(new Uint8Array(0))).toBe(5381);
    expect(cdbHash(enc('a'))).toBe(((5381 * 33) ^ 97) >>> 0);
    await checkProperty(file, fc.property(fc.uint8Array({ maxLength: 200 }), (k) => cdbHash(k) === refHash(k)));
  });
});

describe('cdb writer layout', () => {
  it('an empty cdb is a header whose tables all start at 2048 and are empty', () => {
    const b = cdbMake([]);
    expect(b.length).toBe(cdbHeaderBytes);
    for (let i = 0; i < 256; i++) expect([u32(b, i * 8), u32(b, i * 8 + 4)]).toEqual([2048, 0]);
    expect(cdbFind(b, enc('x'))).toBeNull();
    expect(cdbRecords(b)).toEqual([]);
  });

  it('one record: its bytes at 2048, a 2-slot table, exact bytes', () => {
    const b = cdbMake([[enc('a'), enc('b')]]);
    const h = cdbHash(enc('a'));
    expect(b.length).toBe(2048 + 8 + 2 + 16);
    expect(hex(b.subarray(2048, 2058))).toBe('01000000010000006162');
    const t = h & 255;
    expect([u32(b, t * 8), u32(b, t * 8 + 4)]).toEqual([2058, 2]);
    const slot = (h >>> 8) % 2;
    expect([u32(b, 2058 + slot * 8), u32(b, 2058 + slot * 8 + 4)]).toEqual([h, 2048]);
    expect(u32(b, 2058 + (1 - slot) * 8 + 4)).toBe(0);
    // Tables after t start where t's ends; tables before it where the records end.
    expect(u32(b, 0)).toBe(2058);
    expect(u32(b, 255 * 8)).toBe(t === 255 ? 2058 : 2074);
  });

  it('file size is 2048 + records + 16 bytes per record, and slots total twice the records', async () => {
    await checkProperty(
      file,
      fc.property(records, (rs) => {
        const b = cdbMake(rs);
        const data = rs.reduce((n, [k, v]) => n + 8 + k.length + v.length, 0);
        let slots = 0;
        for (let i = 0; i < 256; i++) slots += u32(b, i * 8 + 4);
        return b.length === 2048 + data + 16 * rs.length && slots === 2 * rs.length;
      }),
    );
  });

  it('refuses to grow past 4 GiB (positions are 32-bit)', () => {
    const m = new CdbMaker();
    const huge = { length: 2 ** 32 } as Uint8Array;
    expect(() => m.add(enc('k'), huge)).toThrow(CdbError);
    try {
      m.add(enc('k'), huge);
    } catch (e) {
      expect((e as CdbError).fault).toBe('tooBig');
    }
  });
});

describe('cdb round trip', () => {
  it('finds every value of every key in insertion order, and nothing else', async () => {
    await checkProperty(
      file,
      fc.property(records, fc.array(anyKey, { maxLength: 10 }), (rs, probes) => {
        const b = cdbMake(rs);
        const r = CdbReader.open(b);
        for (const [k] of [...rs, ...probes.map((p) => [p, p] as const)]) {
          const want = rs.filter(([k2]) => hex(k2) === hex(k)).map(([, v]) => hex(v));
          expect(cdbFindAll(b, k).map(hex)).toEqual(want);
          const first = r.find(k);
          expect(first === null ? null : hex(first)).toEqual(want[0] ?? null);
        }
        expect(cdbRecords(b).map(([k, v]) => [hex(k), hex(v)])).toEqual(rs.map(([k, v]) => [hex(k), hex(v)]));
      }),
    );
  });

  it('handles many records sharing one table and many colliding keys', () => {
    const rs: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 3000; i++) rs.push([enc(`key${i}`), enc(`value${i}`)]);
    for (let i = 0; i < 300; i++) rs.push([enc('dup'), enc(`d${i}`)]);
    const b = cdbMake(rs);
    for (let i = 0; i < 3000; i += 7) expect(new TextDecoder().decode(cdbFind(b, enc(`key${i}`))!)).toBe(`value${i}`);
    expect(cdbFindAll(b, enc('dup')).length).toBe(300);
    expect(new TextDecoder().decode(cdbFind(b, enc('dup'))!)).toBe('d0');
  });
});

describe('cdb reader on hostile bytes', () => {
  /** Runs every read; anything but a CdbError escaping is a failure. */
  function readsSafely(b: Uint8Array, probes: Uint8Array[]): void {
    try {
      const r = CdbReader.open(b);
      for (const p of probes) {
        try {
          [...r.findAll(p)];
        } catch (e) {
          if (!(e instanceof CdbError)) throw e;
        }
      }
      [...r.records()];
    } catch (e) {
      if (!(e instanceof CdbError)) throw e;
    }
  }

  it('short files are truncated', () => {
    for (const n of [0, 1, 2047]) {
      expect(() => cdbFind(new Uint8Array(n), enc('a'))).toThrow(/truncated/);
    }
  });

  it('a table past the end is truncated; a table inside the header is corrupt', () => {
    const b = cdbMake([[enc('a'), enc('b')]]);
    expect(() => cdbFind(b.subarray(0, b.length - 1), enc('a'))).toThrow(/truncated/);
    const c = Uint8Array.from(b);
    const t = cdbHash(enc('a')) & 255;
    new DataView(c.buffer).setUint32(t * 8, 100, true);
    expect(() => cdbFind(c, enc('a'))).toThrow(/corrupt/);
  });

  it('a record pointer past the end or into the header is an error, not a read outside the file', () => {
    const b = Uint8Array.from(cdbMake([[enc('a'), enc('b')]]));
    const h = cdbHash(enc('a'));
    const slot = 2058 + ((h >>> 8) % 2) * 8;
    const dv = new DataView(b.buffer);
    dv.setUint32(slot + 4, 5000, true);
    expect(() => cdbFind(b, enc('a'))).toThrow(/truncated/);
    dv.setUint32(slot + 4, 8, true);
    expect(() => cdbFind(b, enc('a'))).toThrow(/corrupt/);
    dv.setUint32(slot + 4, 2048, true);
    dv.setUint32(2048 + 4, 0xffffffff, true); // dlen: the record claims 4 GiB
    expect(() => cdbFind(b, enc('a'))).toThrow(/truncated/);
  });

  it('a full table of wrong keys ends after one pass (no endless probing)', () => {
    // 2^20 slots, every one occupied with the probe's hash but pointing at a record of another key.
    const slots = 1 << 20;
    const b = new Uint8Array(2048 + 16 + slots * 8);
    const dv = new DataView(b.buffer);
    const key = enc('x');
    const h = cdbHash(key);
    dv.setUint32((h & 255) * 8, 2048 + 16, true);
    dv.setUint32((h & 255) * 8 + 4, slots, true);
    dv.setUint32(2048, 1, true);
    dv.setUint32(2052, 0, true);
    b[2056] = 0x79; // key 'y'
    for (let i = 0; i < slots; i++) {
      dv.setUint32(2064 + i * 8, h, true);
      dv.setUint32(2064 + i * 8 + 4, 2048, true);
    }
    expect(cdbFind(b, key)).toBeNull();
  });

  it('random mutations and truncations of valid files only ever raise CdbError', async () => {
    await checkProperty(
      file,
      fc.property(
        records,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
        fc.option(fc.nat()),
        (rs, flips, cut) => {
          const b = Uint8Array.from(cdbMake(rs));
          for (const [at, v] of flips) b[at % b.length] = v;
          const bytes = cut === null ? b : b.subarray(0, cut % (b.length + 1));
          readsSafely(bytes, rs.slice(0, 5).map(([k]) => k));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes only ever raise CdbError', async () => {
    await checkProperty(
      file,
      fc.property(fc.uint8Array({ minLength: 2040, maxLength: 2300 }), fc.array(smallKey, { maxLength: 4 }), (b, probes) => readsSafely(b, probes)),
      { numRuns: 200 },
    );
  });
});
