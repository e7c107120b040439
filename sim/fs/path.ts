// Path resolution, Linux's way: search permission on every directory walked, '.' and '..',
// repeated slashes, symlinks followed (the last component only when asked, or when a trailing
// slash forces it), at most 40 of them, components of at most 255 bytes.

import type { Cred } from '../fs-api.ts';
import type { Errno } from '../../impl/sys/errors.ts';
import { permits, rootIno, utf8Bytes, type Inode } from './inode.ts';
import type { Table } from './table.ts';
import { sysError } from '../syscall.ts';

export const nameBytesMax = 255;
/** PATH_MAX, counting the NUL. */
export const pathBytesMax = 4096;
/** Linux's MAXSYMLINKS. */
export const symlinksMax = 40;

export interface Resolved {
  /** The directory the final component was looked up in. */
  dir: Inode;
  /** The final component: a plain name, or '.', '..' or '/' (see isDot). */
  name: string;
  /** What the final component names, null if nothing. */
  inode: Inode | null;
  /** The path ended in '/'. */
  slash: boolean;
}

/** '.', '..' and '/' name a directory but are not entries one can create, remove or rename. */
export function isDot(name: string): boolean {
  return name === '.' || name === '..' || name === '/';
}

export interface Walk {
  table: Table;
  /** null: no permission checks (checkers, cwd). */
  cred: Cred | null;
  syscall: string;
  path: string;
}

export function resolve(w: Walk, cwd: string, follow: boolean): Resolved {
  if (w.path === '') fail(w, 'ENOENT');
  // A UTF-16 unit is at most 3 bytes of UTF-8: short paths need no count.
  if (w.path.length * 3 >= pathBytesMax && utf8Bytes(w.path) >= pathBytesMax) fail(w, 'ENAMETOOLONG');
  const root = w.table.get(rootIno);
  let cur = w.path.startsWith('/') ? root : cwdInode(w.table, cwd);
  const todo = componentsReversed(w.path);
  const slash = w.path.endsWith('/');
  if (todo.length === 0) return { dir: root, name: '/', inode: root, slash: false };
  for (let links = 0; ; ) {
    const name = todo.pop() as string;
    if (cur.entries === null) fail(w, 'ENOTDIR');
    if (w.cred !== null && !permits(w.cred, cur, 1)) fail(w, 'EACCES');
    if (name.length * 3 > nameBytesMax && utf8Bytes(name) > nameBytesMax) fail(w, 'ENAMETOOLONG');
    // A removed directory (someone's cwd) has no parent to go back to.
    if (name === '..' && cur.links === 0) fail(w, 'ENOENT');
    const next = lookup(w.table, cur, name);
    const last = todo.length === 0;
    if (next !== null && next.kind === 'symlink' && (!last || follow || slash)) {
      if (++links > symlinksMax) fail(w, 'ELOOP');
      const target = next.node.symlink;
      if (target === '') fail(w, 'ENOENT');
      if (target.startsWith('/')) cur = root;
      const parts = components(target);
      if (parts.length === 0 && last) return finish({ dir: root, name: '/', inode: root, slash }, w);
      for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i] as string);
      continue;
    }
    if (last) return finish({ dir: cur, name, inode: next, slash }, w);
    if (next === null) fail(w, 'ENOENT');
    cur = next as Inode;
  }
}

function fail(w: Walk, code: Errno): never {
  throw sysError(code, w.syscall, w.path);
}

function finish(r: Resolved, w: Walk): Resolved {
  if (r.slash && r.inode !== null && r.inode.kind !== 'dir') fail(w, 'ENOTDIR');
  return r;
}

function lookup(table: Table, dir: Inode, name: string): Inode | null {
  if (name === '.') return dir;
  if (name === '..') return table.get(dir.parent);
  const ino = dir.entries?.get(name);
  return ino === undefined ? null : table.get(ino);
}

/** The kernel keeps a process's cwd as an inode; we get a path. It was checked at chdir time, so
 *  it is walked without permission checks, as Linux would not re-check it either. The walk is
 *  remembered until a directory or symlink name changes anywhere (Table.dirNamesGen): daemons
 *  that chdir into the queue make most of their calls with relative paths. */
function cwdInode(table: Table, cwd: string): Inode {
  if (table.cwdGen !== table.dirNamesGen) {
    table.cwds.clear();
    table.cwdGen = table.dirNamesGen;
  }
  const known = table.cwds.get(cwd);
  if (known !== undefined) return known;
  const r = resolve({ table, cred: null, syscall: 'cwd', path: cwd.startsWith('/') ? cwd : `/${cwd}` }, '/', true);
  if (r.inode === null) throw sysError('ENOENT', 'cwd', cwd);
  if (r.inode.entries === null) throw sysError('ENOTDIR', 'cwd', cwd);
  if (table.cwds.size >= cwdsMax) table.cwds.clear();
  table.cwds.set(cwd, r.inode);
  return r.inode;
}

const cwdsMax = 1024;

/** The non-empty components of path, last first (resolve pops them). */
function componentsReversed(path: string): string[] {
  const out: string[] = [];
  let end = path.length;
  for (let i = path.length - 1; i >= -1; i--) {
    if (i >= 0 && path.charCodeAt(i) !== 47) continue;
    if (end > i + 1) out.push(path.slice(i + 1, end));
    end = i;
  }
  return out;
}

function components(path: string): string[] {
  return componentsReversed(path).reverse();
}
