// The queue's layout: directories, owners, modes, split, and the message file modes.
// Prose: spec/queue.md. Facts: ../shared/spec/queue.md section 1 (notqmail hier.c, indimail queue-fix.c).

/** qmail's users and groups (conf-users, conf-groups). */
export const qmailUsers = {
  alias: 'alias',
  daemon: 'qmaild',
  log: 'qmaill',
  owner: 'root',
  passwd: 'qmailp',
  queue: 'qmailq',
  remote: 'qmailr',
  send: 'qmails',
} as const;

export const qmailGroups = {
  qmail: 'qmail',
  nofiles: 'nofiles',
} as const;

export type QmailUser = (typeof qmailUsers)[keyof typeof qmailUsers];

/** indimail's conf-split: the compiled-in split and the cap on CONFSPLIT. */
export const autoSplit = 151;
export const defaultQmailHome = '/var/qmail';

export interface QueueDirSpec {
  /** Path relative to the queue directory. */
  name: string;
  owner: QmailUser;
  mode: number;
  /** 'always': has subdirectories 0..split-1; 'bigtodo': only when BIGTODO is set; 'never': flat. */
  split: 'always' | 'bigtodo' | 'never';
  /** Ours, beyond qmail: a queue made by another qmail lacks it, and every program works without it. */
  extension?: true;
}

/** Every directory of a queue, parents before children. Group is always `qmail`. */
export const queueDirs: readonly QueueDirSpec[] = [
  { name: '', owner: 'qmailq', mode: 0o750, split: 'never' },
  { name: 'pid', owner: 'qmailq', mode: 0o700, split: 'never' },
  { name: 'intd', owner: 'qmailq', mode: 0o700, split: 'bigtodo' },
  { name: 'todo', owner: 'qmailq', mode: 0o750, split: 'bigtodo' },
  { name: 'mess', owner: 'qmailq', mode: 0o750, split: 'always' },
  { name: 'info', owner: 'qmails', mode: 0o700, split: 'always' },
  { name: 'local', owner: 'qmails', mode: 0o700, split: 'always' },
  { name: 'remote', owner: 'qmails', mode: 0o700, split: 'always' },
  { name: 'bounce', owner: 'qmails', mode: 0o700, split: 'never' },
  // Recycled info/local/remote files (spec/queue.md 7, impl/shared/file-pool.ts).
  { name: 'pool', owner: 'qmails', mode: 0o700, split: 'never', extension: true },
  // Recycled mess/intd files, named by inode number (spec/queue.md 8, impl/shared/file-pool.ts).
  { name: 'qpool', owner: 'qmailq', mode: 0o700, split: 'never', extension: true },
  { name: 'lock', owner: 'qmailq', mode: 0o750, split: 'never' },
];

export interface QueueFileSpec {
  name: string;
  owner: QmailUser;
  mode: number;
  kind: 'zeros' | 'fifo';
  /** For 'zeros': the file's length in NUL bytes. */
  bytes: number;
}

/** tcpto: 64 records of 16 bytes (notqmail); indimail uses 2048. */
export const tcptoBytes = 1024;

export const queueFiles: readonly QueueFileSpec[] = [
  { name: 'lock/tcpto', owner: 'qmailr', mode: 0o644, kind: 'zeros', bytes: tcptoBytes },
  { name: 'lock/sendmutex', owner: 'qmails', mode: 0o600, kind: 'zeros', bytes: 0 },
  { name: 'lock/trigger', owner: 'qmails', mode: 0o622, kind: 'fifo', bytes: 0 },
];

/** Modes of the files inside a message's directories (queue-fix checks them). */
export const messageFileModes: Readonly<Record<string, { owner: QmailUser; mode: number }>> = {
  mess: { owner: 'qmailq', mode: 0o644 },
  intd: { owner: 'qmailq', mode: 0o644 },
  todo: { owner: 'qmailq', mode: 0o644 },
  pid: { owner: 'qmailq', mode: 0o644 },
  info: { owner: 'qmails', mode: 0o600 },
  local: { owner: 'qmails', mode: 0o600 },
  remote: { owner: 'qmails', mode: 0o600 },
  bounce: { owner: 'qmails', mode: 0o600 },
  pool: { owner: 'qmails', mode: 0o600 },
  qpool: { owner: 'qmailq', mode: 0o644 },
};

/** qmail-queue's umask (so mess/intd are created 0644). */
export const queueUmask = 0o033;

/** The layout in force for one queue: where it is, its split, and whether todo/intd are split. */
export interface QueueLayout {
  /** Absolute path of the queue directory. */
  dir: string;
  split: number;
  bigtodo: boolean;
}

/** Is `dirName` split in this layout? */
export function isSplit(spec: QueueDirSpec, layout: Pick<QueueLayout, 'bigtodo'>): boolean {
  return spec.split === 'always' || (spec.split === 'bigtodo' && layout.bigtodo);
}

/** The subdirectory a message lives in: inode number mod split (fmtqfn). */
export function splitOf(id: number, split: number): number {
  return id % split;
}

/** Path of message `id` in `dirName` (relative to the queue), as fmtqfn builds it. */
export function messagePath(dirName: string, id: number, layout: Pick<QueueLayout, 'split' | 'bigtodo'>): string {
  const spec = queueDirs.find((d) => d.name === dirName);
  if (spec === undefined) throw new Error(`spec: no queue directory ${dirName}`);
  return isSplit(spec, layout) ? `${dirName}/${splitOf(id, layout.split)}/${id}` : `${dirName}/${id}`;
}

/** CONFSPLIT: a decimal in 1..autoSplit; larger values are capped (indimail), anything else is invalid. */
export function parseSplit(text: string): number | null {
  if (!/^[0-9]{1,9}$/.test(text)) return null;
  const n = Number(text);
  if (n < 1) return null;
  return Math.min(n, autoSplit);
}

/** BIGTODO: set to a non-zero decimal means split todo and intd. */
export function parseBigtodo(text: string | undefined): boolean {
  if (text === undefined) return false;
  const t = text.trim();
  return t !== '' && t !== '0';
}
