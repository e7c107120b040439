// A simulated qmail installation with one ordinary user, joe, and ways to run qmail-local for him:
//   - 'standalone': the installed bin/qmail-local, started by a root harness as qmail-lspawn does
//     (uid/gid of joe, fd 0 the message file opened read-only, fds 1 and 2 captured);
//   - 'inprocess': qmailLocal() called from a program running as joe (what the delivery workers do),
//     its output (fds 1 and 2 joined) written to fd 1.
// Plus small delivery programs for |program lines: sim-dump (prints argv, env and stdin),
// sim-exit N (reads stdin, exits N), sim-head (reads nothing, exits 0), sim-kill (dies of SIGKILL),
// sim-echo (writes on fds 1 and 2), sim-qq-53 and sim-qq-31 (qmail-queues that refuse).

import type { Fd, Program, Sys } from '../../impl/sys/types.ts';
import { O } from '../../impl/sys/types.ts';
import { readAll, writeAll } from '../../impl/shared/fdio.ts';
import { qmailLocal } from '../../impl/local/qmail-local.ts';
import { bytesMessage } from '../../impl/local/message.ts';
import type { LocalArgs } from '../../impl/local/types.ts';
import type { CrashProfile } from '../../sim/fs-api.ts';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, type Installation } from '../../sim/install.ts';
import type { SpawnHandle } from '../../sim/world.ts';

export const joe = { name: 'joe', uid: 1001, gid: 100, home: '/home/joe' } as const;
export type Mode = 'standalone' | 'inprocess';
export const modes: Mode[] = ['standalone', 'inprocess'];

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface LocalWorld {
  k: Kernel;
  inst: Installation;
}

export interface RunSpec {
  mode: Mode;
  args: Partial<LocalArgs>;
  message: string | Uint8Array;
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  /** fd 1 then fd 2 (inprocess: everything on fd 1). */
  stdout: string;
  stderr: string;
  /** What lspawn would see: fd 1 and fd 2 together. */
  output: string;
}

export interface WorldOpts {
  profile?: CrashProfile;
  /** Wall clock at the start (default: the kernel's, 2026-01-01T00:00:00Z). */
  epochMs?: number;
}

export async function localWorld(seed: number, opts: WorldOpts = {}): Promise<LocalWorld> {
  const k = new Kernel({ seed, profile: opts.profile ?? 'posix', epochMs: opts.epochMs, trace: { keepLines: 200, syscalls: false } });
  const inst = await installQmail(k, { split: 7 });
  k.users.addGroup('users', joe.gid);
  k.users.addUser({ name: joe.name, uid: joe.uid, gid: joe.gid, home: joe.home });
  k.mkdirs('/home', { uid: 0, gid: 0, mode: 0o755 });
  k.mkdirs(joe.home, { uid: joe.uid, gid: joe.gid, mode: 0o755 });
  k.mkdirs('/msg', { uid: 0, gid: 0, mode: 0o755 });
  for (const [name, main] of Object.entries(helpers(inst.home))) {
    k.programs.register(name, main);
    // The runners live in the installation, as qmail-lspawn's workers do (their home comes from there).
    const dir = name.startsWith('sim-local-') ? `${inst.home}/bin` : '/usr/bin';
    k.install(`${dir}/${name}`, name, { uid: 0, gid: 0, mode: 0o755 });
  }
  return { k, inst };
}

/** A file in joe's home, owned by joe. */
export function joeFile(w: LocalWorld, path: string, content: string | Uint8Array, mode = 0o644): void {
  w.k.writeFile(`${joe.home}/${path}`, content, { uid: joe.uid, gid: joe.gid, mode });
}

export function joeDir(w: LocalWorld, path: string, mode = 0o700): void {
  w.k.mkdirs(`${joe.home}/${path}`, { uid: joe.uid, gid: joe.gid, mode });
}

/** A maildir (cur, new, tmp) in joe's home. */
export function joeMaildir(w: LocalWorld, path = 'Maildir'): void {
  for (const sub of ['', '/cur', '/new', '/tmp']) joeDir(w, `${path}${sub}`);
}

export function fullArgs(a: Partial<LocalArgs>): LocalArgs {
  return {
    user: joe.name, homedir: joe.home, local: 'joe', dash: '', ext: '', domain: 'example.com',
    sender: 'sender@example.org', defaultDelivery: './Maildir/\n', dryRun: false, ...a,
  };
}

export function argvOf(a: LocalArgs): string[] {
  return ['qmail-local', ...(a.dryRun ? ['-n'] : []), '--', a.user, a.homedir, a.local, a.dash, a.ext, a.domain, a.sender, a.defaultDelivery];
}

let messages = 0;

/** Starts qmail-local; k.run() makes it go. */
export function startLocal(w: LocalWorld, spec: RunSpec): SpawnHandle {
  const args = fullArgs(spec.args);
  const uid = spec.uid ?? joe.uid;
  const gid = spec.gid ?? joe.gid;
  const msgPath = `/msg/${messages++}`;
  w.k.writeFile(msgPath, spec.message, { uid: 0, gid: 0, mode: 0o644 });
  const env = spec.env ?? { PATH: '/usr/bin:/bin' };
  if (spec.mode === 'standalone') {
    const argv = ['sim-local-run', String(uid), String(gid), msgPath, ...argvOf(args)];
    return w.k.spawn(`${w.inst.home}/bin/sim-local-run`, argv, { env });
  }
  const argv = ['sim-local-inproc', msgPath, JSON.stringify(args)];
  return w.k.spawn(`${w.inst.home}/bin/sim-local-inproc`, argv, { uid, gid, env });
}

export async function runLocal(w: LocalWorld, spec: RunSpec): Promise<RunResult> {
  const h = startLocal(w, spec);
  const done = h.wait();
  await w.k.run({ until: () => h.status() !== null });
  const r = await done;
  return { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr };
}

export function fileText(w: LocalWorld, path: string): string | null {
  const b = w.k.fs.peekFile(path);
  return b === null ? null : dec.decode(b);
}

export function dirNames(w: LocalWorld, path: string): string[] {
  return (w.k.fs.peekDir(path) ?? []).sort();
}

function helpers(home: string): Record<string, Program> {
  return {
    'sim-local-run': async (sys) => {
      const [, uid, gid, msgPath, ...argv] = sys.proc.self.argv;
      const fd = await sys.fs.open(msgPath as string, O.RDONLY);
      const child = await sys.proc.spawn(`${home}/bin/qmail-local`, argv, {
        env: sys.proc.self.env, uid: Number(uid), gid: Number(gid), fds: [fd, 1, 2], cwd: home,
      });
      const st = await child.wait();
      return st.code ?? 255;
    },
    'sim-local-inproc': async (sys) => {
      const [, msgPath, json] = sys.proc.self.argv;
      const fd = await sys.fs.open(msgPath as string, O.RDONLY);
      const bytes = await readAll(sys, fd);
      await sys.fs.close(fd);
      const r = await qmailLocal(withBroken(sys), JSON.parse(json as string) as LocalArgs, bytesMessage(bytes), sys.proc.self.env);
      await writeAll(sys, 1, r.output);
      return r.code;
    },
    'sim-dump': dump,
    'sim-exit': async (sys) => {
      await readAll(sys, 0);
      return Number(sys.proc.self.argv[1] ?? '0');
    },
    'sim-head': async () => 0,
    /** A qmail-queue that reads nothing and exits with the code its name ends in. */
    'sim-qq-53': async () => 53,
    'sim-qq-31': async () => 31,
    'sim-kill': async (sys) => {
      await sys.proc.kill(sys.proc.self.pid, 'SIGKILL');
      return 0;
    },
    'sim-echo': async (sys) => {
      await writeAll(sys, 1, enc.encode(`${sys.proc.self.argv.slice(1).join(' ')}\n`));
      await writeAll(sys, 2, enc.encode('to stderr\n'));
      return 0;
    },
  };
}

/** SIM_BROKEN=<fs method> turns that Sys call into a no-op: a delivery with one durability step
 *  taken out, which the crash properties must catch. */
function withBroken(sys: Sys): Sys {
  const drop = sys.proc.self.env['SIM_BROKEN'];
  if (drop === undefined) return sys;
  const fs = new Proxy(sys.fs, {
    get(target, prop, receiver) {
      if (prop === drop) return async () => undefined;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { ...sys, fs };
}

/** argv, then the environment (NAME=value lines, in order), then `--stdin--` and fd 0's bytes;
 *  also who we are. */
const dump: Program = async (sys: Sys) => {
  const self = sys.proc.self;
  const stdin = await readAll(sys, 0 as Fd);
  const lines = [
    `argv=${JSON.stringify(self.argv)}`,
    `ids=${self.uid}:${self.gid}`,
    `cwd=${sys.proc.cwd()}`,
    ...Object.entries(self.env).map(([n, v]) => `${n}=${JSON.stringify(v)}`),
    '--stdin--',
  ];
  await writeAll(sys, 1, enc.encode(`${lines.join('\n')}\n${dec.decode(stdin)}--end--\n`));
  return 0;
};
