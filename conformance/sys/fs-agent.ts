// fs agent: serves one process's HostFs over its stdin/stdout, so that a root test can act as
// another uid/gid/group list (the kernel checks the agent's credentials, nothing is emulated).
//
// Protocol, one JSON object per line. Request {id, method, args}; reply {id, ok} or {id, err}.
// Bytes travel as {"$bytes": base64}. read(fd, length, position) replies {n, bytes}.
// Started by agent-fs.ts: node --import tsx conformance/sys/fs-agent.ts (fd 0 and 1 are pipes).

import { hostSys } from '../../impl/sys/host/index.ts';
import { SysError } from '../../impl/sys/errors.ts';
import type { Sys } from '../../impl/sys/types.ts';
import { decodeArg, encodeArg, plainMethods, type Reply, type Request } from './agent-protocol.ts';

const lineBytesMax = 16 * 1024 * 1024;

async function serve(sys: Sys, req: Request): Promise<unknown> {
  const fs = sys.fs;
  const args = req.args.map(decodeArg);
  if (req.method === 'read') {
    const [fd, length, position] = args as [number, number, number | null];
    const buf = new Uint8Array(length);
    const n = await fs.read(fd, buf, 0, length, position);
    return { n, bytes: buf.subarray(0, n) };
  }
  if (req.method === 'write') {
    const [fd, bytes, position] = args as [number, Uint8Array, number | null];
    return fs.write(fd, bytes, 0, bytes.length, position);
  }
  if (!plainMethods.includes(req.method)) throw new Error(`not supported by agent: ${req.method}`);
  const method = (fs as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[req.method];
  return method!.apply(fs, args);
}

function replyOf(id: number, outcome: { ok: unknown } | { error: unknown }): Reply {
  // JSON drops undefined members: a void result travels as null.
  if ('ok' in outcome) return { id, ok: encodeArg(outcome.ok) ?? null };
  const e = outcome.error;
  if (e instanceof SysError) return { id, err: { sys: true, code: e.code, syscall: e.syscall, path: e.path ?? null } };
  return { id, err: { sys: false, message: e instanceof Error ? e.message : String(e) } };
}

async function main(): Promise<void> {
  const sys = await hostSys();
  const out = new TextEncoder();
  const send = async (r: Reply): Promise<void> => {
    const bytes = out.encode(`${JSON.stringify(r)}\n`);
    let off = 0;
    while (off < bytes.length) off += await sys.fs.write(1, bytes, off, bytes.length - off);
  };
  let pending = '';
  const buf = new Uint8Array(65536);
  const decoder = new TextDecoder();
  for (;;) {
    const n = await sys.fs.read(0, buf);
    if (n === 0) break;
    pending += decoder.decode(buf.subarray(0, n), { stream: true });
    if (pending.length > lineBytesMax) throw new Error('fs agent: request line too long');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const req = JSON.parse(pending.slice(0, nl)) as Request;
      pending = pending.slice(nl + 1);
      // Requests run concurrently, as a program's awaited calls may; replies carry the id.
      void serve(sys, req).then(
        (ok) => send(replyOf(req.id, { ok })),
        (error: unknown) => send(replyOf(req.id, { error })),
      );
    }
  }
  sys.proc.exit(0);
}

await main();
