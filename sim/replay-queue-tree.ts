// Reading an imported host tree (a queue directory, a qmail home, or a whole root file system, as
// scripts/qsim-tree.ts lists it from a directory or a tarball) into an import plan: where the queue
// is, its flavour and split, its messages with their state and recipients, the control files,
// users/, passwd lines and the files of users' homes. Pure: bytes in, plan out; the world is built
// from the plan by sim/replay-queue.ts.
//
// Layouts. qmail-1.03 and ours share the message files (mess/S/ID, info/S/ID, local/S/ID,
// remote/S/ID split by ID mod split; intd/ID, todo/ID flat unless BIGTODO; bounce/ID flat). Ours is
// told apart by control/conf-split beside the queue (qmail-1.03 compiles its split in). The split
// is read from the queue itself (the numbered subdirectories of mess/), since that is the split
// the files were written under; a conf-split that disagrees is reported. A file in the wrong
// subdirectory is taken from where it is, as queue-fix would move it.
//
// Message states (spec/queue.md 4, qmail-send's todo_do):
//   todo          mess + todo (intd perhaps): committed, not yet preprocessed; every T of todo is due;
//   preprocessed  mess + info (+ local, remote, bounce): T recipients due, D ones done already;
//                 if todo is still there too, preprocessing was cut short and runs again from todo;
//   uncommitted   mess alone or mess + intd: a qmail-queue cut short; nothing is due, and qmail-send's
//                 cleanup removes it;
//   orphan        files without mess (no message body): not imported, each one reported.

export interface TreeEntry {
  /** '/'-separated, relative to the tree's top, no '.' or '..' parts, no leading or trailing '/'. */
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  /** For files. */
  bytes?: Uint8Array;
  /** For symlinks. */
  target?: string;
}

/** What the host side hands over: where it came from (for the report), and every entry. */
export interface HostTree {
  source: string;
  entries: TreeEntry[];
}

export class ReplayQueueError extends Error {}

/** 'unknown': a bare queue directory, with no control/ beside it to tell. */
export type Flavour = 'ours' | 'qmail-1.03' | 'unknown';
export type MessageState = 'todo' | 'preprocessed' | 'uncommitted';

/** A message file by directory name: mess, info, local, remote, todo, intd, bounce. */
export type MessageFiles = Partial<Record<MessageDir, Uint8Array>>;
export type MessageDir = (typeof messageDirs)[number];
export const messageDirs = ['mess', 'info', 'local', 'remote', 'todo', 'intd', 'bounce'] as const;
const splitDirs: ReadonlySet<string> = new Set(['mess', 'info', 'local', 'remote']);

export interface Recipient {
  address: string;
  /** From local/ or remote/; 'todo' for a message not preprocessed yet (qmail-send decides). */
  channel: 'local' | 'remote' | 'todo';
  done: boolean;
}

export interface PlannedMessage {
  /** Its number in the imported queue. */
  oldId: number;
  state: MessageState;
  sender: string | null;
  recipients: Recipient[];
  files: MessageFiles;
  /** intd and todo were one inode (the same bytes): keep them one. */
  intdIsTodo: boolean;
}

export interface PlannedUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  from: 'assign' | 'passwd' | 'options';
}

export interface ImportPlan {
  source: string;
  flavour: Flavour;
  split: number;
  bigtodo: boolean;
  messages: PlannedMessage[];
  /** control/<name> → bytes (conf-split and conf-bigtodo excluded: the installation writes them). */
  control: Map<string, Uint8Array>;
  assign: Uint8Array | null;
  cdb: Uint8Array | null;
  /** alias/<name> → bytes (.qmail files of ~alias). */
  alias: Map<string, Uint8Array>;
  users: PlannedUser[];
  /** Entries outside the qmail home when the tree is a root file system: absolute path → entry. */
  rootFiles: Map<string, TreeEntry>;
  /** Findings while reading: wrong split directories, orphans, ignored names. */
  notes: string[];
}

const number = /^(0|[1-9][0-9]{0,15})$/;

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

function checkPaths(tree: HostTree): void {
  for (const e of tree.entries) {
    const parts = e.path.split('/');
    if (e.path === '' || parts.some((p) => p === '' || p === '.' || p === '..')) throw new ReplayQueueError(`${tree.source}: bad path in the tree: ${JSON.stringify(e.path)}`);
  }
}

/** The queue's prefix in the tree ('' when the tree is the queue itself, else ending in '/'): the
 *  shortest directory holding mess/ and one of todo/ or info/. */
function findQueue(tree: HostTree): string {
  const has = new Set<string>();
  for (const e of tree.entries) {
    const parts = e.path.split('/');
    for (let i = 0; i < parts.length; i++) {
      if (['mess', 'info', 'todo'].includes(parts[i] as string) && (i < parts.length - 1 || e.kind === 'dir')) {
        has.add(`${parts.slice(0, i).map((p) => `${p}/`).join('')}\0${parts[i]}`);
      }
    }
  }
  const prefixes = [...has].filter((k) => k.endsWith('\0mess')).map((k) => k.slice(0, -5));
  const found = prefixes.filter((p) => has.has(`${p}\0todo`) || has.has(`${p}\0info`)).sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  if (found.length === 0) throw new ReplayQueueError(`${tree.source}: no qmail queue found (no directory holding mess/ and todo/ or info/)`);
  return found[0] as string;
}

export function planImport(tree: HostTree, extraUsers: readonly string[] = []): ImportPlan {
  checkPaths(tree);
  const q = findQueue(tree);
  const home = q.endsWith('queue/') ? q.slice(0, -'queue/'.length) : null;
  const notes: string[] = [];
  const byPath = new Map(tree.entries.map((e) => [e.path, e]));
  const file = (path: string): Uint8Array | null => {
    const e = byPath.get(path);
    return e?.kind === 'file' ? (e.bytes ?? new Uint8Array(0)) : null;
  };
  const under = (prefix: string): TreeEntry[] => tree.entries.filter((e) => e.path.startsWith(prefix) && e.path.length > prefix.length);
  const control = new Map<string, Uint8Array>();
  if (home !== null) {
    for (const e of under(`${home}control/`)) {
      const name = e.path.slice(home.length + 'control/'.length);
      if (e.kind === 'file' && !name.includes('/')) control.set(name, e.bytes ?? new Uint8Array(0));
    }
  }
  const flavour: Flavour = home === null ? 'unknown' : control.has('conf-split') ? 'ours' : 'qmail-1.03';
  if (control.size === 0) notes.push(`no control/ beside the queue: the simulator's (control/me sim.example, locals the same)`);
  const { split, bigtodo } = layoutOf(under(q).map((e) => ({ ...e, path: e.path.slice(q.length) })), control, notes);
  control.delete('conf-split');
  control.delete('conf-bigtodo');
  const messages = readMessages(under(q).map((e) => ({ ...e, path: e.path.slice(q.length) })), split, notes);
  const alias = new Map<string, Uint8Array>();
  if (home !== null) {
    for (const e of under(`${home}alias/`)) {
      const name = e.path.slice(home.length + 'alias/'.length);
      if (e.kind === 'file' && !name.includes('/')) alias.set(name, e.bytes ?? new Uint8Array(0));
    }
  }
  const assign = home === null ? null : file(`${home}users/assign`);
  const cdb = home === null ? null : file(`${home}users/cdb`);
  const passwd = file('etc/passwd');
  const users = planUsers(assign, passwd, extraUsers, notes);
  // A tree holding more than the qmail home is a root file system: users' homes come along.
  const rootFiles = new Map<string, TreeEntry>();
  if (home !== null && home !== '') {
    for (const e of tree.entries) {
      if (!e.path.startsWith(home) && `${e.path}/` !== home && e.path !== 'etc/passwd') rootFiles.set(`/${e.path}`, e);
    }
  }
  return { source: tree.source, flavour, split, bigtodo, messages, control, assign, cdb, alias, users, rootFiles, notes };
}

function layoutOf(entries: TreeEntry[], control: Map<string, Uint8Array>, notes: string[]): { split: number; bigtodo: boolean } {
  const subdirs = (dir: string): number[] => {
    const out = new Set<number>();
    for (const e of entries) {
      const parts = e.path.split('/');
      if (parts[0] === dir && parts.length >= 2 && number.test(parts[1] as string) && (parts.length === 3 || e.kind === 'dir')) out.add(Number(parts[1]));
    }
    return [...out];
  };
  const conf = control.get('conf-split');
  const confSplit = conf === undefined ? null : Number(latin1(conf).trim());
  const mess = subdirs('mess');
  let split = mess.length > 0 ? Math.max(...mess) + 1 : (confSplit ?? 23);
  // A tarball of files alone lacks the empty high subdirectories: conf-split wins if more files sit
  // where it says they belong.
  if (confSplit !== null && confSplit > split && placed(entries, confSplit) > placed(entries, split)) split = confSplit;
  if (!Number.isInteger(split) || split < 1 || split > 151) {
    notes.push(`split ${split} out of range 1..151: taken as 23`);
    split = 23;
  }
  if (confSplit !== null && confSplit !== split) notes.push(`control/conf-split says ${confSplit}, the queue's mess/ has ${split} subdirectories: ${split} is used`);
  const bigtodo = subdirs('todo').length > 0 || subdirs('intd').length > 0;
  return { split, bigtodo };
}

/** How many split message files are in subdirectory ID mod split. */
function placed(entries: readonly TreeEntry[], split: number): number {
  let n = 0;
  for (const e of entries) {
    const parts = e.path.split('/');
    if (parts.length === 3 && splitDirs.has(parts[0] as string) && Number(parts[2]) % split === Number(parts[1])) n++;
  }
  return n;
}

function readMessages(entries: TreeEntry[], split: number, notes: string[]): PlannedMessage[] {
  const files = new Map<number, MessageFiles>();
  let pidFiles = 0;
  for (const e of entries) {
    const parts = e.path.split('/');
    const dir = parts[0] as string;
    if (dir === 'pid' && parts.length === 2) pidFiles++;
    if (!(messageDirs as readonly string[]).includes(dir) || parts.length === 1) continue;
    if (e.kind === 'dir' && parts.length === 2 && number.test(parts[1] as string)) continue;
    const name = parts[parts.length - 1] as string;
    const sub = parts.length === 3 ? parts[1] as string : null;
    if (parts.length > 3 || e.kind !== 'file' || !number.test(name) || (sub !== null && !number.test(sub))) {
      notes.push(`ignored: queue/${e.path} (not a message file)`);
      continue;
    }
    const id = Number(name);
    if (sub !== null && Number(sub) !== id % split) notes.push(`queue/${e.path}: in the wrong split directory (taken as message ${id})`);
    if (sub === null && splitDirs.has(dir)) notes.push(`queue/${e.path}: not in a split directory (taken as message ${id})`);
    const m = files.get(id) ?? {};
    m[dir as MessageDir] = e.bytes ?? new Uint8Array(0);
    files.set(id, m);
  }
  if (pidFiles > 0) notes.push(`${pidFiles} file(s) in queue/pid (interrupted qmail-queue runs): not imported`);
  const out: PlannedMessage[] = [];
  for (const id of [...files.keys()].sort((a, b) => a - b)) {
    const f = files.get(id) as MessageFiles;
    if (f.mess === undefined) {
      notes.push(`message ${id}: ${Object.keys(f).join(', ')} without mess/: not imported (no message to deliver)`);
      continue;
    }
    out.push(planMessage(id, f, notes));
  }
  return out;
}

function records(b: Uint8Array | undefined): string[] {
  if (b === undefined) return [];
  const all = latin1(b).split('\0');
  // A last record without its NUL is ignored, as qmail's getln loop does.
  all.pop();
  return all;
}

function planMessage(oldId: number, f: MessageFiles, notes: string[]): PlannedMessage {
  const intdIsTodo = f.intd !== undefined && f.todo !== undefined && latin1(f.intd) === latin1(f.todo);
  if (f.todo !== undefined) {
    if (f.info !== undefined) notes.push(`message ${oldId}: todo and info both there (preprocessing cut short): preprocessed again from todo`);
    const recs = records(f.todo);
    const sender = recs.find((r) => r.startsWith('F'))?.slice(1) ?? null;
    if (sender === null) notes.push(`message ${oldId}: todo/${oldId} has no F record`);
    const recipients = recs.filter((r) => r.startsWith('T')).map((r): Recipient => ({ address: r.slice(1), channel: 'todo', done: false }));
    return { oldId, state: 'todo', sender, recipients, files: f, intdIsTodo };
  }
  if (f.info !== undefined) {
    const sender = records(f.info).find((r) => r.startsWith('F'))?.slice(1) ?? null;
    if (sender === null) notes.push(`message ${oldId}: info/${oldId} has no F record`);
    const recipients: Recipient[] = [];
    for (const channel of ['local', 'remote'] as const) {
      for (const r of records(f[channel])) {
        if (r.startsWith('T') || r.startsWith('D')) recipients.push({ address: r.slice(1), channel, done: r.startsWith('D') });
      }
    }
    return { oldId, state: 'preprocessed', sender, recipients, files: f, intdIsTodo: false };
  }
  if (f.local !== undefined || f.remote !== undefined || f.bounce !== undefined) {
    notes.push(`message ${oldId}: local/remote/bounce without info/: left for qmail-send's cleanup`);
  }
  return { oldId, state: 'uncommitted', sender: null, recipients: [], files: f, intdIsTodo };
}

/** Users from users/assign (=local:user:uid:gid:home:... and +prefix:user:uid:gid:home:...), then
 *  passwd lines (name:x:uid:gid:gecos:home:shell), then names given in the options. */
function planUsers(assign: Uint8Array | null, passwd: Uint8Array | null, extra: readonly string[], notes: string[]): PlannedUser[] {
  const users = new Map<string, PlannedUser>();
  const add = (u: PlannedUser): void => {
    if (!/^[A-Za-z0-9._-]{1,32}$/.test(u.name) || !u.home.startsWith('/')) {
      notes.push(`user ${JSON.stringify(u.name)} (${u.from}): bad name or home, not created`);
      return;
    }
    if (!users.has(u.name)) users.set(u.name, u);
  };
  for (const line of assign === null ? [] : latin1(assign).split('\n')) {
    if (line.startsWith('.')) break;
    const f = line.split(':');
    if ((line.startsWith('=') || line.startsWith('+')) && f.length >= 5) {
      add({ name: f[1] as string, uid: Number(f[2]), gid: Number(f[3]), home: f[4] as string, from: 'assign' });
    }
  }
  for (const line of passwd === null ? [] : latin1(passwd).split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && /^[0-9]+$/.test(f[2] as string) && /^[0-9]+$/.test(f[3] as string)) {
      add({ name: f[0] as string, uid: Number(f[2]), gid: Number(f[3]), home: f[5] as string, from: 'passwd' });
    }
  }
  extra.forEach((name, i) => add({ name, uid: 3000 + i, gid: 100, home: `/home/${name}`, from: 'options' }));
  return [...users.values()].filter((u) => Number.isSafeInteger(u.uid) && Number.isSafeInteger(u.gid));
}
