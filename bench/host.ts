// Shared by the host benchmarks (needs root): an installation in a temporary directory with N
// users that exist only in users/cdb (qmail-newu), so that a benchmark creates no accounts. Each
// user owns a home with a Maildir; their uids have no passwd entry. And /proc readers for the
// resident memory and CPU of a process tree.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
/** Programs run as qmail runs them (rc: `env - PATH=...`): without NODE_OPTIONS or
 *  NODE_EXTRA_CA_CERTS, which alone adds about 55 ms to every Node start here. */
export const deployedEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
const benchUid0 = 61000;
const benchGid = 61000;
export const benchDomain = 'bench.example';

export interface BenchInstall {
  dir: string;
  home: string;
  users: string[];
  /** Each user's Maildir. */
  maildirs: string[];
}

export function installWithUsers(prefix: string, users: number, split = 23): BenchInstall {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  // As /var/qmail and /home are on a real system, the installation and the homes go to different
  // block groups (impl/setup/spread.ts): a TOPDIR parent spreads its subdirectories. Best effort.
  spawnSync('chattr', ['+T', dir], { stdio: 'ignore' });
  const home = join(dir, 'qmail');
  execFileSync(join(root, 'dist/bin/qmail-setup'), ['--home', home, '--split', String(split), '--create-users'], { stdio: 'ignore' });
  const names: string[] = [];
  const maildirs: string[] = [];
  const assign: string[] = [];
  mkdirSync(join(dir, 'home'), { mode: 0o755 });
  for (let i = 0; i < users; i++) {
    const name = `bench${i + 1}`;
    const uid = benchUid0 + i;
    const h = join(dir, 'home', name);
    for (const d of ['', 'Maildir', 'Maildir/tmp', 'Maildir/new', 'Maildir/cur']) {
      mkdirSync(join(h, d), { mode: d === '' ? 0o755 : 0o700, recursive: true });
      chownSync(join(h, d), uid, benchGid);
    }
    names.push(name);
    maildirs.push(join(h, 'Maildir'));
    assign.push(`=${name}:${name}:${uid}:${benchGid}:${h}:::`);
  }
  writeFileSync(join(home, 'users/assign'), `${assign.join('\n')}\n.\n`);
  execFileSync(join(home, 'bin/qmail-newu'), [], { env: { ...deployedEnv, QMAILHOME: home } });
  return { dir, home, users: names, maildirs };
}

export function idOf(flag: '-u' | '-g', name: string): number {
  return Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
}

const clockTicksPerSecond = 100;

/** utime + stime of a process, ms (/proc/<pid>/stat fields 14 and 15). */
export function cpuMsOf(pid: number): number {
  const { user, system } = cpuSplitOf(pid);
  return user + system;
}

/** utime and stime of a process, ms. */
export function cpuSplitOf(pid: number): { user: number; system: number } {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return { user: (Number(fields[11]) * 1000) / clockTicksPerSecond, system: (Number(fields[12]) * 1000) / clockTicksPerSecond };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** Every live process: pid → parent pid. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      out.set(Number(p), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The pid and all its descendants. */
export function treeOf(pid: number): number[] {
  const ppid = parents();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [p, pp] of ppid) if (pp === tree[i]) tree.push(p);
  return tree;
}

/** Proportional resident memory (Pss, so the shared node binary counts once) of a process tree, MB,
 *  and how many processes it has. */
export function treePssMb(pid: number): { mb: number; processes: number } {
  let kb = 0;
  let processes = 0;
  for (const p of treeOf(pid)) {
    try {
      kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      processes++;
    } catch {
      // gone meanwhile
    }
  }
  return { mb: kb / 1024, processes };
}

/** CPU of a process tree, ms (live processes only). */
export function treeCpuMs(pid: number): number {
  return treeOf(pid).reduce((sum, p) => sum + cpuMsOf(p), 0);
}

export function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}
