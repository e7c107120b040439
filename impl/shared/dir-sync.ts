// Group commit for directory fsyncs, for a process that runs many deliveries at once (the delivery
// worker): syncDir(path) returns only after an fsync of path that STARTED AFTER the call, so every
// name linked before the call is durable when it returns, exactly as with a private fsync. While
// one fsync of a directory runs, every caller that arrives meanwhile waits for it to end and then
// shares a single next fsync. Durability is unchanged; the number of directory fsyncs drops from
// one per delivery to about one per fsync time per maildir.

import type { Fs, Sys } from '../sys/types.ts';

interface Dir {
  current: Promise<void>;
  /** The fsync the callers that came during `current` share (it starts when `current` ends). */
  next: Promise<void> | null;
}

export class DirSyncer {
  private readonly dirs = new Map<string, Dir>();
  /** fsyncs actually started (for tests and benchmarks). */
  started = 0;

  constructor(private readonly fs: Pick<Fs, 'syncDir'>) {}

  sync(path: string): Promise<void> {
    const d = this.dirs.get(path);
    if (d === undefined) return this.start(path);
    const after = (): Promise<void> => this.start(path);
    d.next ??= d.current.then(after, after);
    return d.next;
  }

  private start(path: string): Promise<void> {
    this.started++;
    const p = this.fs.syncDir(path);
    const entry: Dir = { current: p, next: null };
    this.dirs.set(path, entry);
    // Registered before any `next` hangs on p, so it runs first: with no one waiting, forget the dir.
    const clear = (): void => {
      if (this.dirs.get(path) === entry && entry.next === null) this.dirs.delete(path);
    };
    p.then(clear, clear);
    return p;
  }
}

/** The same Sys whose fs.syncDir is group-committed through one DirSyncer. */
export function withDirGroupCommit(sys: Sys, syncer = new DirSyncer(sys.fs)): Sys {
  return withFsOverrides(sys, { syncDir: (path: string): Promise<void> => syncer.sync(path) });
}

/** The same Sys with some fs methods replaced; the others are sys.fs's own, each bound once, not at
 *  every call (a delivery worker makes thousands of calls). */
export function withFsOverrides(sys: Sys, overrides: Partial<Record<keyof Fs, unknown>>): Sys {
  const bound = new WeakMap<object, unknown>();
  const fs = new Proxy(sys.fs, {
    get(target, prop, receiver) {
      const o = (overrides as Record<string | symbol, unknown>)[prop];
      if (o !== undefined) return o;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      let b = bound.get(v);
      if (b === undefined) {
        b = (v as (...a: unknown[]) => unknown).bind(target);
        bound.set(v, b);
      }
      return b;
    },
  });
  return { ...sys, fs };
}
