// socketpair(2) for spawn's { sameAs } wiring. Node creates a child's 'pipe' itself and never hands
// the parent the child's end, so a pipe that must sit at two child fds (qmail's fd 2 = fd 1) is made
// here: a Unix stream socket listening in a fresh 0700 directory of ours (nobody else can connect),
// one connection to it, then the listener and directory are gone. The two ends are what Node's
// 'pipe' is on Linux: a connected AF_UNIX stream pair.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** [ours, theirs]: theirs is paused and never read by us; its fd is handed to the child. */
export async function socketPair(): Promise<[Socket, Socket]> {
  const dir = mkdtempSync(join(tmpdir(), 'qmail-sp-'));
  const path = join(dir, 's');
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
  try {
    const theirs = new Promise<Socket>((resolve, reject) => {
      server.once('connection', resolve);
      server.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    const ours = connect({ path, allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      ours.once('connect', resolve);
      ours.once('error', reject);
    });
    ours.pause();
    return [ours, await theirs];
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The fd under a socket. */
export function fdOfSocket(s: Socket): number {
  const fd = (s as unknown as { _handle: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('socketPair: socket has no fd');
  return fd;
}
