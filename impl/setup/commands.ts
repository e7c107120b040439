// Running host commands (cc, groupadd, useradd) through sys.proc.spawn: found by absolute path,
// started with a fixed PATH and nothing else from our environment, stdin from /dev/null, their
// output on our stderr so that stdout stays the report.

import type { ExitStatus, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { isSysError } from '../sys/errors.ts';

export const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The first executable regular file called `name` on PATH (ours, then the system's). */
export async function findProgram(sys: Sys, name: string): Promise<string | null> {
  const dirs = [...(sys.proc.self.env['PATH'] ?? '').split(':'), ...systemPath.split(':')];
  for (const dir of dirs) {
    if (!dir.startsWith('/')) continue; // a relative PATH entry would depend on our cwd
    const path = `${dir}/${name}`;
    try {
      const st = await sys.fs.stat(path);
      if (st.kind === 'file' && (st.mode & 0o111) !== 0) return path;
    } catch (e) {
      if (!isSysError(e)) throw e;
    }
  }
  return null;
}

export async function runCommand(sys: Sys, path: string, argv: readonly string[]): Promise<ExitStatus> {
  const devNull = await sys.fs.open('/dev/null', O.RDONLY);
  try {
    const child = await sys.proc.spawn(path, [...argv], { env: { PATH: systemPath }, fds: [devNull, 2, 2] });
    return await child.wait();
  } finally {
    await sys.fs.close(devNull);
  }
}

export function describeStatus(status: ExitStatus): string {
  return status.signal !== null ? `killed by ${status.signal}` : `exit ${status.code}`;
}
