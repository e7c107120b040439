// Spreading a new queue over the file system's block groups. ext2/3/4 put a new subdirectory in
// its parent's block group, and a new file in its directory's; so every message file of the queue
// would share one group, and on ext4 without a journal each create then scans every inode of that
// group freed in the last 5 to 35 seconds (the allocator skips recently deleted inodes): under a
// steady flow of mail, a create costs up to half a millisecond of kernel time. The TOPDIR attribute
// (chattr +T) on the queue and on each split directory makes the kernel place their subdirectories
// (pid/, intd/, todo/, ...; mess/0, mess/1, ...) in different groups, as it does for top-level
// directories.
//
// Only a hint: chattr is looked for on the system PATH and its failure (another file system, no
// chattr) changes nothing but the placement, so it is silent. qmail-setup passes this to queue-fix
// for the queue and the split directories it has just made; an existing queue is left as it is.

import type { Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { findProgram, systemPath } from './commands.ts';

export async function spreader(sys: Sys): Promise<((path: string) => Promise<void>) | undefined> {
  const chattr = await findProgram(sys, 'chattr');
  if (chattr === null) return undefined;
  return async (path) => {
    const devNull = await sys.fs.open('/dev/null', O.RDWR);
    try {
      const child = await sys.proc.spawn(chattr, ['chattr', '+T', path], { env: { PATH: systemPath }, fds: [devNull, devNull, devNull] });
      await child.wait();
    } finally {
      await sys.fs.close(devNull);
    }
  };
}
