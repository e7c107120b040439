// Fixtures for the qmail-lspawn simulator tests: a world with users, raw protocol runs (commands
// preloaded on fd 0, reports captured from fd 1), small delivery programs for |program lines and
// QMAILLOCAL, and trace counters.

import type { Program, Sys } from '../../impl/sys/types.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { lspawnWorld, type LspawnWorld, type LspawnWorldOpts } from '../../sim/scenarios/lspawn-world.ts';
import { SendStandIns } from '../../sim/scenarios/send-stand-in.ts';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export interface TestWorld extends LspawnWorld {
  sends: SendStandIns;
}

/** A world with users and the test programs installed in /usr/bin. */
export async function testWorld(opts: Partial<LspawnWorldOpts> & { seed: number }): Promise<TestWorld> {
  const w = await lspawnWorld({ users: 3, ...opts });
  for (const [name, main] of Object.entries(testPrograms)) {
    w.k.programs.register(name, main);
    w.k.install(`/usr/bin/${name}`, name, { uid: 0, gid: 0, mode: 0o755 });
  }
  return { ...w, sends: new SendStandIns(w.k, w.inst.home) };
}

/** One spawn command's bytes. */
export function command(delnum: number, messid: string, sender: string, recipient: string): Uint8Array {
  const b = enc(`_${messid}\0${sender}\0${recipient}\0`);
  b[0] = delnum;
  return b;
}

export function commands(...cmds: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(cmds.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of cmds) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export interface RawRun {
  code: number | null;
  concurrency: number | null;
  /** [delnum, report] in arrival order. */
  reports: [number, string][];
}

/** Runs qmail-lspawn with these commands on fd 0 (then EOF) and parses fd 1 as qmail-send does. */
export async function rawLspawn(w: LspawnWorld, input: Uint8Array, env: Record<string, string> = {}, argv = ['qmail-lspawn', './Maildir/']): Promise<RawRun> {
  const h = w.k.spawn(`${w.inst.home}/bin/qmail-lspawn`, argv, { env: { QMAILHOME: w.inst.home, ...env }, stdin: input });
  const done = h.wait();
  await w.k.run({ until: () => h.status() !== null });
  const status = await done;
  return { code: status.code, ...parseReports(h.output(1)) };
}

export function parseReports(out: Uint8Array): { concurrency: number | null; reports: [number, string][] } {
  if (out.length === 0) return { concurrency: null, reports: [] };
  const reports: [number, string][] = [];
  let line: number[] = [];
  for (const b of out.subarray(1)) {
    line.push(b);
    if (b !== 0 || line.length <= 1) continue;
    reports.push([line[0] as number, dec(Uint8Array.from(line.slice(1, -1)))]);
    line = [];
  }
  if (line.length > 0) reports.push([-1, `unterminated: ${dec(Uint8Array.from(line))}`]);
  return { concurrency: out[0] as number, reports };
}

/** Programs started by `proc.spawn` trace lines, by program name. */
export function spawnsOf(w: LspawnWorld, program: string): { pid: number; uid: number; gid: number; t: number }[] {
  return w.k.trace.lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r['event'] === 'proc.spawn' && r['program'] === program)
    .map((r) => ({ pid: r['child'] as number, uid: r['uid'] as number, gid: r['gid'] as number, t: r['t'] as number }));
}

export function events(w: LspawnWorld, name: string): Record<string, unknown>[] {
  return w.k.trace.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r['event'] === name);
}

async function say(sys: Sys, fd: number, text: string): Promise<void> {
  await writeAll(sys, fd, enc(text));
}

/** Reads fd 0 to EOF; returns its bytes. */
async function slurp0(sys: Sys): Promise<Uint8Array> {
  const parts: number[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await sys.fs.read(0, buf, 0, buf.length, null);
    if (n === 0) return Uint8Array.from(parts);
    for (const b of buf.subarray(0, n)) parts.push(b);
  }
}

export const testPrograms: Record<string, Program> = {
  /** |sim-id: who runs the delivery and what it was told. */
  'sim-id': async (sys) => {
    const s = sys.proc.self;
    const e = s.env;
    await say(sys, 1, `uid=${s.uid} gid=${s.gid} groups=${s.groups.join(',')} MESSID=${e['MESSID'] ?? '-'} QMAILREMOTE=${e['QMAILREMOTE'] ?? '-'}\n`);
    return 0;
  },
  /** |sim-sleep MS: a slow delivery. */
  'sim-sleep': async (sys) => {
    await sys.clock.sleep(Number(sys.proc.self.argv[1] ?? '1000'));
    return 0;
  },
  /** |sim-print N: N bytes of output, then exit 0. */
  'sim-print': async (sys) => {
    const n = Number(sys.proc.self.argv[1] ?? '10');
    await say(sys, 1, 'y'.repeat(n));
    return 0;
  },
  /** QMAILLOCAL stand-in: prints its argv and fd 0 (the message), once on fd 1 and once on fd 2, and
   *  exits with $SIM_EXIT (default 0). */
  'sim-local': async (sys) => {
    const s = sys.proc.self;
    const message = await slurp0(sys);
    const st = await sys.fs.fstat(0);
    await say(sys, 1, `argv=${s.argv.join('|')}\n`);
    await say(sys, 2, `fd0=${st.kind}:${message.length}:${dec(message).split('\n')[0]}\n`);
    await say(sys, 1, `uid=${s.uid} cwd=${sys.proc.cwd()} MESSID=${s.env['MESSID'] ?? '-'}\n`);
    return Number(s.env['SIM_EXIT'] ?? '0');
  },
  /** A qmail-local that dies of a signal after some output. */
  'sim-crash': async (sys) => {
    await say(sys, 1, 'partial output\n');
    await sys.proc.kill(sys.proc.self.pid, 'SIGKILL');
    return 0;
  },
  /** QMAILGETPW stand-in: exits with $SIM_GETPW_EXIT. */
  'sim-getpw-fail': async (sys) => Number(sys.proc.self.env['SIM_GETPW_EXIT'] ?? '116'),
};
