// AgentFs: an Fs whose calls run in an fs agent (fs-agent.ts) started with other credentials.
// Every method is forwarded; one the agent does not serve fails loudly with its message.

import { fileURLToPath } from 'node:url';
import { SysError, type Errno } from '../../impl/sys/errors.ts';
import type { Child, Fd, Fs, Proc, Stat } from '../../impl/sys/types.ts';
import { decodeArg, encodeArg, type Reply, type Request } from './agent-protocol.ts';

const agentScript = fileURLToPath(new URL('./fs-agent.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Creds {
  uid: number;
  gid: number;
  groups: number[];
}

/** Starts an agent as creds. `proc` and `fs` are the (root) test process's own. */
export async function startAgent(proc: Proc, fs: Fs, creds: Creds): Promise<AgentFs> {
  const child = await proc.spawn(process.execPath, [process.execPath, '--import', 'tsx', agentScript], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LOGLEVEL: 'warn' },
    cwd: repoRoot, // where `--import tsx` resolves
    uid: creds.uid,
    gid: creds.gid,
    groups: creds.groups,
    fds: ['pipe', 'pipe', 2],
  });
  const agent = new AgentFs(fs, child);
  await agent.readdir('/'); // up and serving
  return agent;
}

export class AgentFs implements Fs {
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;

  constructor(
    private readonly fs: Fs,
    private readonly child: Child,
  ) {
    void this.readReplies();
  }

  /** Closes the agent's stdin; it exits at EOF. */
  async stop(): Promise<void> {
    await this.fs.close(this.child.fds[0]!);
    await this.child.wait();
    await this.fs.close(this.child.fds[1]!);
  }

  private async call(method: string, args: unknown[]): Promise<unknown> {
    if (this.dead) throw this.dead;
    const id = this.nextId++;
    const req: Request = { id, method, args: args.map(encodeArg) };
    const bytes = new TextEncoder().encode(`${JSON.stringify(req)}\n`);
    const reply = new Promise<unknown>((resolve, reject) => this.calls.set(id, { resolve, reject }));
    let off = 0;
    while (off < bytes.length) off += await this.fs.write(this.child.fds[0]!, bytes, off, bytes.length - off);
    return decodeArg(await reply);
  }

  private async readReplies(): Promise<void> {
    const buf = new Uint8Array(65536);
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for (;;) {
        const n = await this.fs.read(this.child.fds[1]!, buf);
        if (n === 0) break;
        pending += decoder.decode(buf.subarray(0, n), { stream: true });
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          this.settle(JSON.parse(pending.slice(0, nl)) as Reply);
          pending = pending.slice(nl + 1);
        }
      }
      this.die(new Error('fs agent exited'));
    } catch (e) {
      this.die(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private settle(r: Reply): void {
    const call = this.calls.get(r.id);
    if (call === undefined) throw new Error(`fs agent: reply to unknown call ${r.id}`);
    this.calls.delete(r.id);
    if (!('err' in r)) return call.resolve(r.ok);
    const e = r.err;
    call.reject(e.sys ? new SysError(e.code as Errno, e.syscall, e.path ?? undefined) : new Error(`fs agent: ${e.message}`));
  }

  private die(e: Error): void {
    this.dead = e;
    for (const c of this.calls.values()) c.reject(e);
    this.calls.clear();
  }

  async read(fd: Fd, buf: Uint8Array, offset = 0, length?: number, position: number | null = null): Promise<number> {
    const len = length ?? buf.length - offset;
    const r = (await this.call('read', [fd, len, position])) as { n: number; bytes: Uint8Array };
    buf.set(r.bytes, offset);
    return r.n;
  }

  async write(fd: Fd, buf: Uint8Array, offset = 0, length?: number, position: number | null = null): Promise<number> {
    const len = length ?? buf.length - offset;
    return (await this.call('write', [fd, buf.subarray(offset, offset + len), position])) as number;
  }

  open(path: string, flags: number, mode?: number): Promise<Fd> {
    return this.call('open', mode === undefined ? [path, flags] : [path, flags, mode]) as Promise<Fd>;
  }
  close(fd: Fd): Promise<void> {
    return this.call('close', [fd]) as Promise<void>;
  }
  fsync(fd: Fd): Promise<void> {
    return this.call('fsync', [fd]) as Promise<void>;
  }
  fstat(fd: Fd): Promise<Stat> {
    return this.call('fstat', [fd]) as Promise<Stat>;
  }
  ftruncate(fd: Fd, length: number): Promise<void> {
    return this.call('ftruncate', [fd, length]) as Promise<void>;
  }
  lock(fd: Fd, wait: boolean): Promise<void> {
    return this.call('lock', [fd, wait]) as Promise<void>;
  }
  unlock(fd: Fd): Promise<void> {
    return this.call('unlock', [fd]) as Promise<void>;
  }
  stat(path: string): Promise<Stat> {
    return this.call('stat', [path]) as Promise<Stat>;
  }
  lstat(path: string): Promise<Stat> {
    return this.call('lstat', [path]) as Promise<Stat>;
  }
  link(existing: string, newPath: string): Promise<void> {
    return this.call('link', [existing, newPath]) as Promise<void>;
  }
  rename(oldPath: string, newPath: string): Promise<void> {
    return this.call('rename', [oldPath, newPath]) as Promise<void>;
  }
  unlink(path: string): Promise<void> {
    return this.call('unlink', [path]) as Promise<void>;
  }
  mkdir(path: string, mode: number): Promise<void> {
    return this.call('mkdir', [path, mode]) as Promise<void>;
  }
  rmdir(path: string): Promise<void> {
    return this.call('rmdir', [path]) as Promise<void>;
  }
  readdir(path: string): Promise<string[]> {
    return this.call('readdir', [path]) as Promise<string[]>;
  }
  chmod(path: string, mode: number): Promise<void> {
    return this.call('chmod', [path, mode]) as Promise<void>;
  }
  chown(path: string, uid: number, gid: number): Promise<void> {
    return this.call('chown', [path, uid, gid]) as Promise<void>;
  }
  utimes(path: string, atimeMs: number, mtimeMs: number): Promise<void> {
    return this.call('utimes', [path, atimeMs, mtimeMs]) as Promise<void>;
  }
  mkfifo(path: string, mode: number): Promise<void> {
    return this.call('mkfifo', [path, mode]) as Promise<void>;
  }
  symlink(target: string, path: string): Promise<void> {
    return this.call('symlink', [target, path]) as Promise<void>;
  }
  readlink(path: string): Promise<string> {
    return this.call('readlink', [path]) as Promise<string>;
  }
  syncDir(path: string): Promise<void> {
    return this.call('syncDir', [path]) as Promise<void>;
  }
  trigger(path: string): Promise<void> {
    return this.call('trigger', [path]) as Promise<void>;
  }
}
