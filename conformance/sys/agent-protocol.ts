// The fs agent's wire format (fs-agent.ts serves it, agent-fs.ts speaks it).

/** The Fs methods the agent forwards as plain JSON (read and write carry bytes, see fs-agent.ts). */
export const plainMethods: readonly string[] = [
  'open', 'close', 'fsync', 'fstat', 'ftruncate', 'lock', 'unlock', 'stat', 'lstat', 'link', 'rename',
  'unlink', 'mkdir', 'rmdir', 'readdir', 'chmod', 'chown', 'utimes', 'mkfifo', 'symlink', 'readlink',
  'syncDir', 'trigger',
];

export interface Request {
  id: number;
  method: string;
  args: unknown[];
}

export type ReplyError =
  | { sys: true; code: string; syscall: string; path: string | null }
  | { sys: false; message: string };

export type Reply = { id: number; ok: unknown } | { id: number; err: ReplyError };

/** Uint8Arrays become {$bytes: base64}, anywhere in a JSON value. */
export function encodeArg(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(encodeArg);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encodeArg(x)]));
  }
  return v;
}

export function decodeArg(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeArg);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o['$bytes'] === 'string') return new Uint8Array(Buffer.from(o['$bytes'], 'base64'));
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decodeArg(x)]));
  }
  return v;
}
