// The host's side of `qsim replay-queue`: reads a queue (or a qmail home, or a root file system
// holding one) from a directory or from a .tar / .tar.gz / .tgz tarball into the in-memory tree
// sim/replay-queue-tree.ts plans an import from. Owners and modes come from lstat or the tar headers.
//
// Tar is read by the small reader below rather than the npm package tar-stream: the input is read
// whole and synchronously (a queue is small next to memory), tar-stream is a streaming, event-driven
// reader whose errors on a truncated archive arrive as stream events, and the formats a queue is
// archived in are few: POSIX ustar (with its 155-byte prefix), pax extended headers (path,
// linkpath, size, uid, gid; global headers are skipped), GNU long names and long link names (L, K),
// GNU base-256 numbers, hard links (the earlier entry's bytes). Each header's checksum is
// verified; a truncated archive, a bad checksum or an unknown entry type is a clear error naming
// the entry, never a partial import. gzip is Node's zlib (detected by its magic bytes, whatever the
// file is called).

import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ReplayQueueError, type HostTree, type TreeEntry } from '../sim/replay-queue-tree.ts';

const block = 512;

/** A directory or a tarball, by what it is on disk. */
export function readTree(path: string): HostTree {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    throw new ReplayQueueError(`${path}: ${(e as Error).message}`);
  }
  if (st.isDirectory()) return { source: path, entries: readDir(path) };
  if (!st.isFile()) throw new ReplayQueueError(`${path}: neither a directory nor a tarball`);
  return { source: path, entries: parseTarball(readFileSync(path), path) };
}

function readDir(top: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(top, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const abs = join(top, path);
      const st = lstatSync(abs);
      const base = { path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isDirectory()) {
        out.push({ ...base, kind: 'dir' });
        walk(path);
      } else if (st.isFile()) out.push({ ...base, kind: 'file', bytes: new Uint8Array(readFileSync(abs)) });
      else if (st.isSymbolicLink()) out.push({ ...base, kind: 'symlink', target: readlinkSync(abs) });
      else out.push({ ...base, kind: 'other' });
    }
  };
  walk('');
  return out;
}

/** A tarball's bytes, gzipped or not. */
export function parseTarball(bytes: Uint8Array, source: string): TreeEntry[] {
  let tar = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      tar = new Uint8Array(gunzipSync(bytes));
    } catch (e) {
      throw new ReplayQueueError(`${source}: bad gzip data: ${(e as Error).message}`);
    }
  }
  return parseTar(tar, source);
}

function text(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder('latin1').decode(end === -1 ? b : b.subarray(0, end));
}

/** An octal field, or GNU base-256 (first byte 0x80). */
function num(b: Uint8Array, what: string, source: string): number {
  if ((b[0] ?? 0) & 0x80) {
    let n = (b[0] as number) & 0x7f;
    for (let i = 1; i < b.length; i++) n = n * 256 + (b[i] as number);
    return n;
  }
  const s = text(b).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new ReplayQueueError(`${source}: bad ${what} field ${JSON.stringify(s)} in a tar header`);
  return parseInt(s, 8);
}

function checksumOk(h: Uint8Array, source: string): boolean {
  let sum = 0;
  for (let i = 0; i < block; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  return sum === num(h.subarray(148, 156), 'checksum', source);
}

/** pax records: "<len> <key>=<value>\n". */
function paxRecords(b: Uint8Array, source: string): Map<string, string> {
  const out = new Map<string, string>();
  const s = new TextDecoder('utf-8').decode(b);
  let at = 0;
  while (at < s.length) {
    const sp = s.indexOf(' ', at);
    const len = Number(s.slice(at, sp));
    if (sp === -1 || !Number.isInteger(len) || len <= 0) throw new ReplayQueueError(`${source}: bad pax header`);
    const rec = s.slice(sp + 1, at + len - 1);
    const eq = rec.indexOf('=');
    out.set(rec.slice(0, eq), rec.slice(eq + 1));
    at += len;
  }
  return out;
}

function clean(path: string, source: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ReplayQueueError(`${source}: tar entry ${JSON.stringify(path)} climbs out with ..`);
  return parts.join('/');
}

export function parseTar(tar: Uint8Array, source: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const files = new Map<string, TreeEntry>();
  let at = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  let pax = new Map<string, string>();
  for (;;) {
    if (at + block > tar.length) {
      throw new ReplayQueueError(`${source}: truncated tar: ${at === tar.length ? 'no end-of-archive blocks' : 'a header cut short'} at byte ${at}`);
    }
    const h = tar.subarray(at, at + block);
    if (h.every((c) => c === 0)) break;
    if (!checksumOk(h, source)) throw new ReplayQueueError(`${source}: bad tar header checksum at byte ${at}`);
    const type = String.fromCharCode(h[156] as number);
    const ustar = text(h.subarray(257, 263)).startsWith('ustar');
    const prefix = ustar ? text(h.subarray(345, 500)) : '';
    const rawName = longName ?? pax.get('path') ?? (prefix === '' ? text(h.subarray(0, 100)) : `${prefix}/${text(h.subarray(0, 100))}`);
    const size = pax.has('size') ? Number(pax.get('size')) : num(h.subarray(124, 136), 'size', source);
    const dataAt = at + block;
    if (dataAt + size > tar.length) throw new ReplayQueueError(`${source}: truncated tar: ${JSON.stringify(rawName)} needs ${size} bytes, ${tar.length - dataAt} left`);
    const data = tar.subarray(dataAt, dataAt + size);
    at = dataAt + Math.ceil(size / block) * block;
    if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
      if (type === 'L') longName = text(data);
      if (type === 'K') longLink = text(data);
      if (type === 'x') pax = paxRecords(data, source);
      continue;
    }
    const link = longLink ?? pax.get('linkpath') ?? text(h.subarray(157, 257));
    const base = {
      path: clean(rawName, source),
      mode: num(h.subarray(100, 108), 'mode', source) & 0o7777,
      uid: pax.has('uid') ? Number(pax.get('uid')) : num(h.subarray(108, 116), 'uid', source),
      gid: pax.has('gid') ? Number(pax.get('gid')) : num(h.subarray(116, 124), 'gid', source),
    };
    longName = null;
    longLink = null;
    pax = new Map();
    if (base.path === '') continue; // "./" itself
    let e: TreeEntry;
    if (type === '0' || type === '\0' || type === '7') e = { ...base, kind: 'file', bytes: data.slice() };
    else if (type === '5') e = { ...base, kind: 'dir' };
    else if (type === '2') e = { ...base, kind: 'symlink', target: link };
    else if (type === '1') {
      const target = files.get(clean(link, source));
      if (target === undefined) throw new ReplayQueueError(`${source}: hard link ${base.path} to ${link}, which is not earlier in the archive`);
      e = { ...base, kind: 'file', bytes: target.bytes };
    } else if (type === '3' || type === '4' || type === '6') e = { ...base, kind: 'other' };
    else throw new ReplayQueueError(`${source}: tar entry ${base.path} has unknown type ${JSON.stringify(type)}`);
    if (e.kind === 'file') files.set(e.path, e);
    out.push(e);
  }
  return out;
}
