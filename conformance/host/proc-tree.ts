// The host's process tree, read from /proc, for the host tests that find and kill daemons: each
// process's parent and argv, the children of a pid, and every descendant of a set of pids. A
// process that ends while the table is read is simply left out.

import { readdirSync, readFileSync } from 'node:fs';

export interface Proc {
  pid: number;
  ppid: number;
  cmdline: string[];
}

/** Every process now: pid, parent pid, argv. */
export function processTable(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    let cmdline: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    // The comm field may hold spaces and parentheses: the fields after it follow the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    out.push({ pid: Number(name), ppid, cmdline: cmdline.split('\0').filter((s) => s !== '') });
  }
  return out;
}

export function childrenOf(table: Proc[], ppid: number): Proc[] {
  return table.filter((p) => p.ppid === ppid);
}

/** Every descendant of root (not root itself). */
export function descendantsOf(table: Proc[], root: number): Proc[] {
  const byParent = new Map<number, Proc[]>();
  for (const p of table) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const todo = [root];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    for (const c of byParent.get(pid) ?? []) {
      out.push(c);
      todo.push(c.pid);
    }
  }
  return out;
}

/** The processes running program (argv names it as the command itself, or as `node [FLAGS] <path>`:
 *  the daemons' #! line gives node flags, scripts/build.ts). */
export function running(procs: Proc[], path: string): Proc[] {
  return procs.filter((p) => p.cmdline[0] === path || p.cmdline.slice(1).find((a) => !a.startsWith('-')) === path);
}
