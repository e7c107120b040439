// Lexical path arithmetic for cwd and /proc/self/exe. The kernel never resolves symlinks here:
// SimFs resolves every path it is given; these helpers only keep cwd absolute and normalized.

/** `p` resolved against the absolute directory `cwd`, with '.', '..' and repeated '/' removed. */
export function resolvePath(cwd: string, p: string): string {
  return normalizePath(p.startsWith('/') ? p : `${cwd}/${p}`);
}

export function normalizePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** The directory part of an absolute normalized path ('/' for '/x' and for '/'). */
export function dirName(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}
