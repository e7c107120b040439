// Counting the files of a queue directory tree, to a bounded depth (the queue is at most two
// levels deep: dir/<S>/<ID>).

import type { Sys } from '../sys/types.ts';
import { isSysError } from '../sys/errors.ts';

/** Non-directories at depth minDepth..maxDepth below dir (its entries are depth 1). A name that
 *  vanishes while we look (a message leaving the queue) is not counted. */
export async function countFiles(sys: Sys, dir: string, minDepth: number, maxDepth: number): Promise<number> {
  if (!(minDepth >= 1 && maxDepth >= minDepth)) throw new Error(`countFiles: bad depths ${minDepth}..${maxDepth}`);
  return countBelow(sys, dir, 1, minDepth, maxDepth);
}

async function countBelow(sys: Sys, dir: string, depth: number, minDepth: number, maxDepth: number): Promise<number> {
  let n = 0;
  for (const name of await sys.fs.readdir(dir)) {
    const path = `${dir}/${name}`;
    let kind;
    try {
      kind = (await sys.fs.lstat(path)).kind;
    } catch (e) {
      if (isSysError(e, 'ENOENT')) continue;
      throw e;
    }
    if (kind !== 'dir') n += depth >= minDepth ? 1 : 0;
    else if (depth < maxDepth) n += await countBelow(sys, path, depth + 1, minDepth, maxDepth);
  }
  return n;
}
