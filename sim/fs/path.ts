// Path resolution, Linux's way: search permission on every directory walked, '.' and '..',
// repeated slashes, symlinks followed (the last component only when asked, or when a trailing
// slash forces it), at most 40 of them, components of at most 255 bytes.

import type { Cred } from '../fs-api.ts';
import { SysError, type Errno } from '../../impl/sys/errors.ts';
import { permits, rootIno, utf8Bytes, type Inode } from './inode.ts';
import type { Table } from './table.ts';

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
  const fail = (code: Errno): never => {
    throw new SysError(code, w.syscall, w.path);
  };
  if (w.path === '') fail('ENOENT');
  if (utf8Bytes(w.path) >= pathBytesMax) fail('ENAMETOOLONG');
  const root = w.table.get(rootIno);
  let cur = w.path.startsWith('/') ? root : cwdInode(w.table, cwd);
  const todo = components(w.path).reverse();
  const slash = w.path.endsWith('/');
  if (todo.length === 0) return { dir: root, name: '/', inode: root, slash: false };
  for (let links = 0; ; ) {
    const name = todo.pop() as string;
    if (cur.entries === null) fail('ENOTDIR');
    if (w.cred !== null && !permits(w.cred, cur, 1)) fail('EACCES');
    if (utf8Bytes(name) > nameBytesMax) fail('ENAMETOOLONG');
    // A removed directory (someone's cwd) has no parent to go back to.
    if (name === '..' && cur.links === 0) fail('ENOENT');
    const next = lookup(w.table, cur, name);
    const last = todo.length === 0;
    if (next !== null && next.kind === 'symlink' && (!last || follow || slash)) {
      if (++links > symlinksMax) fail('ELOOP');
      const target = next.node.symlink;
      if (target === '') fail('ENOENT');
      if (target.startsWith('/')) cur = root;
      const parts = components(target);
      if (parts.length === 0 && last) return finish({ dir: root, name: '/', inode: root, slash }, fail);
      for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i] as string);
      continue;
    }
    if (last) return finish({ dir: cur, name, inode: next, slash }, fail);
    if (next === null) fail('ENOENT');
    cur = next as Inode;
  }
}

function finish(r: Resolved, fail: (code: Errno) => never): Resolved {
  if (r.slash && r.inode !== null && r.inode.kind !== 'dir') fail('ENOTDIR');
  return r;
}

function lookup(table: Table, dir: Inode, name: string): Inode | null {
  if (name === '.') return dir;
  if (name === '..') return table.get(dir.parent);
  const ino = dir.entries?.get(name);
  return ino === undefined ? null : table.get(ino);
}

/** The kernel keeps a process's cwd as an inode; we get a path. It was checked at chdir time, so
 *  it is walked without permission checks, as Linux would not re-check it either. */
function cwdInode(table: Table, cwd: string): Inode {
  const r = resolve({ table, cred: null, syscall: 'cwd', path: cwd.startsWith('/') ? cwd : `/${cwd}` }, '/', true);
  if (r.inode === null) throw new SysError('ENOENT', 'cwd', cwd);
  if (r.inode.entries === null) throw new SysError('ENOTDIR', 'cwd', cwd);
  return r.inode;
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '');
}
