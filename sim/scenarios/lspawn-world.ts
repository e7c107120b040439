// A simulated world for qmail-lspawn: qmail installed, local users with homes and Maildirs, and
// messages put straight into queue/mess (owner qmailq, as qmail-queue leaves them). Each message
// carries a token line so that a checker finds which delivery a maildir file belongs to.

import { Kernel, type KernelOptions } from '../kernel.ts';
import { installQmail, simIds, type Installation } from '../install.ts';
import type { CrashProfile } from '../fs-api.ts';
import { splitOf } from '../../spec/queue.ts';
import type { Program } from '../../impl/sys/types.ts';

export interface LocalUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface LspawnWorld {
  k: Kernel;
  inst: Installation;
  users: LocalUser[];
}

export interface LspawnWorldOpts {
  seed: number;
  users: number;
  profile?: CrashProfile;
  latency?: KernelOptions['latency'];
  /** Trace lines kept in memory (default: all). */
  keepTraceLines?: number;
  /** Replace installed programs' mains (a deliberately broken worker, in tests). */
  override?: Record<string, Program>;
}

/** The group every local user is in; `staff` is a supplementary group some are given. */
export const usersGid = 100;
export const staffGid = 50;
const firstUid = 2001;

export async function lspawnWorld(opts: LspawnWorldOpts): Promise<LspawnWorld> {
  const k = new Kernel({ seed: opts.seed, profile: opts.profile ?? 'posix', latency: opts.latency, trace: { syscalls: false, keepLines: opts.keepTraceLines } });
  const inst = await installQmail(k, { split: 23, override: opts.override });
  k.users.addGroup('users', usersGid);
  k.users.addGroup('staff', staffGid);
  k.mkdirs('/home', { uid: 0, gid: 0, mode: 0o755 });
  const users = Array.from({ length: opts.users }, (_, i) => addLocalUser(k, `user${i + 1}`, firstUid + i));
  return { k, inst, users };
}

/** A user with a home of its own (0755) holding an empty Maildir. */
export function addLocalUser(k: Kernel, name: string, uid: number, home = `/home/${name}`): LocalUser {
  k.users.addUser({ name, uid, gid: usersGid, home });
  const own = { uid, gid: usersGid };
  k.mkdirs(home, { ...own, mode: 0o755 });
  for (const d of ['Maildir', 'Maildir/tmp', 'Maildir/new', 'Maildir/cur']) k.mkdirs(`${home}/${d}`, { ...own, mode: 0o700 });
  return { name, uid, gid: usersGid, home };
}

/** A file in a user's home, owned by the user (a .qmail file). */
export function userFile(k: Kernel, u: LocalUser, name: string, text: string, mode = 0o644): void {
  k.writeFile(`${u.home}/${name}`, text, { uid: u.uid, gid: u.gid, mode });
}

export function tokenOf(index: number): string {
  return `X-Sim-Token: delivery-${index}`;
}

export function messageText(index: number, bodyBytes = 200): string {
  return `${tokenOf(index)}\nSubject: message ${index}\n\n${'x'.repeat(Math.max(0, bodyBytes - 1))}\n`;
}

/** Puts a message file into queue/mess as qmailq owns it; returns its messid (`S/ID`). */
export function queueMessage(w: LspawnWorld, id: number, bytes: Uint8Array | string): string {
  const messid = `${splitOf(id, w.inst.queue.split)}/${id}`;
  w.k.writeFile(`${w.inst.queue.dir}/mess/${messid}`, bytes, { uid: simIds.users.qmailq, gid: simIds.groups.qmail, mode: 0o644 });
  return messid;
}

/** Files in a maildir's new/ with their bytes (checker access: no permissions, nothing touched). */
export function maildirFiles(k: Kernel, maildir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of k.fs.peekDir(`${maildir}/new`) ?? []) {
    const bytes = k.fs.peekFile(`${maildir}/new/${name}`);
    if (bytes !== null) out.set(name, bytes);
  }
  return out;
}

/** How many times each delivery's token occurs in the maildir's new/ files. */
export function tokensIn(k: Kernel, maildir: string): Map<number, number> {
  const counts = new Map<number, number>();
  const dec = new TextDecoder();
  for (const bytes of maildirFiles(k, maildir).values()) {
    const m = /X-Sim-Token: delivery-(\d+)/.exec(dec.decode(bytes));
    if (m === null) continue;
    const i = Number(m[1]);
    counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  return counts;
}
