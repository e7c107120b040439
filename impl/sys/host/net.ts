// HostNet: TCP over node:net, DNS over c-ares (dns.Resolver, never getaddrinfo on the threadpool).
// Every connected socket becomes an fd in the FdTable, read and written through HostFs.

import type { promises as dns } from 'node:dns';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { SysError } from '../errors.ts';
import type { Accepted, Address, Listener, MxRecord, Net } from '../types.ts';
import { sysErrorFrom } from './errors.ts';
import type { FdTable } from './fd-table.ts';

/** c-ares answers meaning "no such name" or "no such record": qmail's DNS_HARD, so an empty list. */
const dnsNoAnswer: ReadonlySet<string> = new Set(['ENODATA', 'ENOTFOUND']);

/** Anything else (SERVFAIL, timeout, refused, no server) is temporary: EAGAIN, cause in the message. */
export function dnsEmptyOrThrow(e: unknown, syscall: string, name: string): [] {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && dnsNoAnswer.has(code)) return [];
  const err = new SysError('EAGAIN', syscall, name);
  err.message += ` (${typeof code === 'string' ? code : String(e)})`;
  throw err;
}

function addressOf(host: string | undefined, port: number | undefined): Address {
  return { host: host ?? '', port: port ?? 0 };
}

export class HostNet implements Net {
  private resolver: dns.Resolver | null = null;

  constructor(private readonly fds: FdTable) {}

  async listen(local: Address): Promise<Listener> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(sysErrorFrom(e, 'bind', `${local.host}:${local.port}`)));
      server.listen(local.port, local.host, () => resolve());
    });
    return new HostListener(server, this.fds);
  }

  connect(remote: Address, timeoutMs: number): Promise<Accepted> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: remote.host, port: remote.port, allowHalfOpen: true });
      socket.pause(); // no read until the program reads (StreamFd)
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SysError('ETIMEDOUT', 'connect', `${remote.host}:${remote.port}`));
      }, timeoutMs);
      const onError = (e: Error): void => {
        clearTimeout(timer);
        reject(sysErrorFrom(e, 'connect', `${remote.host}:${remote.port}`));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(accepted(this.fds, socket));
      });
    });
  }

  async resolveMx(name: string): Promise<MxRecord[]> {
    try {
      const mx = await (await this.dns()).resolveMx(name);
      return mx.map((r) => ({ exchange: r.exchange, priority: r.priority }));
    } catch (e) {
      return dnsEmptyOrThrow(e, 'resolveMx', name);
    }
  }

  async resolveA(name: string): Promise<string[]> {
    try {
      return await (await this.dns()).resolve4(name);
    } catch (e) {
      return dnsEmptyOrThrow(e, 'resolveA', name);
    }
  }

  /** Created on first use: reading resolv.conf is not start-up work for programs without DNS. */
  private async dns(): Promise<dns.Resolver> {
    // node:dns is loaded here, not at start-up: most of our programs never resolve a name, and
    // loading it cost every process start (a delivery worker, each qmail-queue) milliseconds.
    this.resolver ??= new (await import('node:dns')).promises.Resolver();
    return this.resolver;
  }
}

function accepted(fds: FdTable, socket: Socket): Accepted {
  const remote = addressOf(socket.remoteAddress, socket.remotePort);
  const local = addressOf(socket.localAddress, socket.localPort);
  return { fd: fds.adopt(socket).fd, remote, local };
}

class HostListener implements Listener {
  readonly local: Address;
  private readonly ready: Socket[] = [];
  private readonly waiting: { resolve: (a: Accepted) => void; reject: (e: SysError) => void }[] = [];
  private closed = false;

  constructor(
    private readonly server: Server,
    private readonly fds: FdTable,
  ) {
    const a = server.address() as AddressInfo;
    this.local = { host: a.address, port: a.port };
    server.on('connection', (s: Socket) => this.arrive(s));
    server.on('error', (e) => this.failAll(sysErrorFrom(e, 'accept')));
  }

  accept(): Promise<Accepted> {
    if (this.closed) return Promise.reject(new SysError('EBADF', 'accept'));
    const s = this.ready.shift();
    if (s !== undefined) return Promise.resolve(accepted(this.fds, s));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new SysError('EBADF', 'accept'));
    for (const s of this.ready.splice(0)) s.destroy();
    // Closes the listening fd now; Node's callback would wait for every accepted socket to close.
    this.server.close();
  }

  private arrive(s: Socket): void {
    // A peer that reset before we saw it has no address: like accept(2) after ECONNABORTED, skip it.
    if (s.remoteAddress === undefined) return void s.destroy();
    const w = this.waiting.shift();
    if (w === undefined) this.ready.push(s);
    else w.resolve(accepted(this.fds, s));
  }

  private failAll(e: SysError): void {
    for (const w of this.waiting.splice(0)) w.reject(e);
  }
}
