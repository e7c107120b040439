// One delivery by a qmail-remote process (QMAILREMOTE), as qmail-rspawn.c's spawn() runs it:
//   argv   qmail-remote host sender recipient;  fd 0 the message file, fds 1 and 2 one report pipe;
//   cwd    queue/mess (spawn.c's); the program found through PATH when its name has no `/` (execvp).
// Exec failure: temporary errno → 111, else 100 (then rspawnReport says "Unable to run").

import type { Child, Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { remoteProgram, type RemoteEnd } from '../../spec/remote.ts';
import { errorTemp } from '../lib/error-temp.ts';
import { collect } from '../lspawn/output.ts';

/** qmail-send keeps at most 10000 bytes of a report; we keep a little more of qmail-remote's output. */
export const remoteOutputBytesMax = 16_384;

export interface RemoteRun {
  end: RemoteEnd;
  output: Uint8Array;
}

export async function runRemoteProcess(
  sys: Sys,
  program: string,
  args: { host: string; sender: string; recipient: string },
  env: Record<string, string>,
  cwd: string,
  messFd: Fd,
): Promise<RemoteRun> {
  const path = program.includes('/') ? program : await whichPath(sys, program, env['PATH'] ?? '');
  let child: Child;
  try {
    if (path === null) throw new SysError('ENOENT', 'execvp', program);
    child = await sys.proc.spawn(path, [remoteProgram, args.host, args.sender, args.recipient], {
      env,
      cwd,
      fds: [messFd, 'pipe', { sameAs: 1 }],
    });
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    sys.log.event('warn', 'rspawn.remote_exec_failed', { program, code: e.code });
    return { end: { code: errorTemp(e.code) ? 111 : 100 }, output: new Uint8Array(0) };
  }
  const out = await collect(sys, child.fds[1] as Fd, remoteOutputBytesMax);
  const status = await child.wait();
  return { end: status.code === null ? { crashed: true } : { code: status.code }, output: out.kept };
}

/** execvp's search: the first PATH entry holding a file of that name (empty entry = cwd). */
async function whichPath(sys: Sys, name: string, pathVar: string): Promise<string | null> {
  for (const dir of pathVar.split(':')) {
    const candidate = `${dir === '' ? '.' : dir}/${name}`;
    try {
      const st = await sys.fs.stat(candidate);
      if (st.kind === 'file') return candidate;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
  }
  return null;
}
