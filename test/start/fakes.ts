// Fake daemons for qmail-start's simulator tests, installed in place of the real ones (qmail-start
// starts them by name only), so that qmail-start is tested apart from the daemons:
//   helper    (spawners, qmail-clean): answers each piece read on fd 0 with `<argv0><piece>` on fd 1,
//             exits 0 at EOF; `stubborn` ignores TERM and never exits by itself.
//   todo-proc passes each piece from fd 0 to its qmail-clean (fd 2), and the answer (fd 3) back on
//             fd 1 as `todo-proc<answer>`.
//   qmail-send pings fds 1, 3, 5, 7 and logs each answer read on fds 2, 4, 6, 8 to fd 0 with its
//             argv and one env variable; logs each signal it gets; TERM: `status: exiting`, exit 0;
//             EOF on a report fd: notqmail's alert, exit 0 (`stubborn`: alert only, stays).

import type { Fd, Program, Signal, Sys } from '../../impl/sys/types.ts';
import { SysError } from '../../impl/sys/errors.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import type { Installation } from '../../sim/install.ts';
import type { Kernel } from '../../sim/kernel.ts';
import { installAs } from '../../sim/boot.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readSome(sys: Sys, fd: Fd): Promise<string | null> {
  const buf = new Uint8Array(4096);
  try {
    const n = await sys.fs.read(fd, buf, 0, buf.length, null);
    return n === 0 ? null : dec.decode(buf.subarray(0, n));
  } catch (e) {
    if (e instanceof SysError) return null;
    throw e;
  }
}

async function say(sys: Sys, fd: Fd, text: string): Promise<boolean> {
  try {
    await writeAll(sys, fd, enc.encode(text));
    return true;
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
}

const forever = (): Promise<never> => new Promise(() => undefined);

export function fakeHelper(opts: { stubborn?: boolean } = {}): Program {
  return async (sys) => {
    if (opts.stubborn === true) sys.proc.onSignal('SIGTERM', () => undefined);
    const name = sys.proc.self.argv[0] ?? '?';
    for (;;) {
      const piece = await readSome(sys, 0);
      if (piece === null) return opts.stubborn === true ? forever() : 0;
      await say(sys, 1, `${name}<${piece}>`);
    }
  };
}

export const fakeTodo: Program = async (sys) => {
  for (;;) {
    const piece = await readSome(sys, 0);
    if (piece === null) return 0;
    await say(sys, 2, piece);
    const answer = await readSome(sys, 3);
    await say(sys, 1, `todo-proc<${answer ?? 'EOF'}>`);
  }
};

const reportFds: Fd[] = [2, 4, 6, 8];
const loggedSignals: Signal[] = ['SIGHUP', 'SIGALRM', 'SIGUSR1', 'SIGUSR2'];

export function fakeSend(opts: { stubborn?: boolean } = {}): Program {
  return async (sys) => {
    const self = sys.proc.self;
    let end: (code: number) => void = () => undefined;
    const ended = new Promise<number>((resolve) => (end = resolve));
    const log = (line: string): Promise<boolean> => say(sys, 0, `${line}\n`);
    for (const sig of loggedSignals) sys.proc.onSignal(sig, () => void log(`got ${sig}`));
    sys.proc.onSignal('SIGTERM', () => void log('status: exiting').then(() => end(0)));
    await log(`argv ${self.argv.join(' ')} env FOO=${self.env['FOO'] ?? ''} uid ${self.uid} gid ${self.gid}`);
    for (const fd of reportFds) {
      await say(sys, fd - 1, `ping${fd - 1}`);
      await log(`fd${fd}: ${(await readSome(sys, fd)) ?? 'EOF'}`);
    }
    for (const fd of reportFds) {
      void readSome(sys, fd).then(async () => {
        await log('alert: oh no! lost spawn connection! dying...');
        if (opts.stubborn !== true) end(0);
      });
    }
    return ended;
  };
}

/** Installs the fakes as qmail-send, todo-proc, qmail-clean and both spawners. */
export function installFakes(k: Kernel, inst: Installation, opts: { stubbornSend?: boolean; stubbornClean?: boolean } = {}): void {
  installAs(k, inst, 'qmail-send', 'fake-send', fakeSend({ stubborn: opts.stubbornSend }));
  installAs(k, inst, 'todo-proc', 'fake-todo', fakeTodo);
  installAs(k, inst, 'qmail-clean', 'fake-clean', fakeHelper({ stubborn: opts.stubbornClean }));
  installAs(k, inst, 'qmail-lspawn', 'fake-spawner', fakeHelper());
  installAs(k, inst, 'qmail-rspawn', 'fake-spawner', fakeHelper());
}
