// The world's network: listening sockets by address, a DNS table and per-host faults. Connections
// are socket pairs of kernel channels (sim/files.ts); sim/sys-net.ts does connect and accept.

import type { Address, MxRecord } from '../impl/sys/types.ts';
import type { ChanDesc } from './files.ts';
import { assert } from './assert.ts';
import { WaitQueue } from './wait-queue.ts';
import { sysError } from './syscall.ts';

/** What connecting to a host does instead of reaching a listener. */
export type HostFault = 'unreachable' | 'timeout' | 'refuse';

/** SOMAXCONN: more waiting connections than this are refused. */
export const backlogMax = 4096;
const ephemeralFirst = 32_768;
const ephemeralLast = 60_999;

/** A connection that arrived and waits for accept(); `desc` is the server's end. */
export interface Pending {
  readonly desc: ChanDesc;
  readonly remote: Address;
  readonly local: Address;
}

export class ListenerState {
  readonly backlog: Pending[] = [];
  readonly acceptors = new WaitQueue();
  closed = false;

  constructor(
    readonly local: Address,
    readonly ownerPid: number,
  ) {}
}

export class SimNet {
  private readonly listeners = new Map<string, ListenerState>();
  private readonly mx = new Map<string, MxRecord[]>();
  private readonly a = new Map<string, string[]>();
  private readonly dnsTempFail = new Set<string>();
  private readonly faults = new Map<string, HostFault>();
  private nextPort = ephemeralFirst;

  setMx(name: string, records: MxRecord[]): void {
    this.mx.set(dnsKey(name), records.map((r) => ({ ...r })));
  }

  setA(name: string, addrs: string[]): void {
    this.a.set(dnsKey(name), [...addrs]);
  }

  /** While on, lookups of the name fail with EAGAIN (a temporary DNS failure). */
  setDnsFailure(name: string, on: boolean): void {
    if (on) this.dnsTempFail.add(dnsKey(name));
    else this.dnsTempFail.delete(dnsKey(name));
  }

  setHostFault(host: string, fault: HostFault | null): void {
    if (fault === null) this.faults.delete(host);
    else this.faults.set(host, fault);
  }

  hostFault(host: string): HostFault | null {
    return this.faults.get(host) ?? null;
  }

  lookupMx(name: string): MxRecord[] {
    if (this.dnsTempFail.has(dnsKey(name))) throw sysError('EAGAIN', 'resolveMx', name);
    return (this.mx.get(dnsKey(name)) ?? []).map((r) => ({ ...r }));
  }

  lookupA(name: string): string[] {
    if (this.dnsTempFail.has(dnsKey(name))) throw sysError('EAGAIN', 'resolveA', name);
    if (isIpv4(name)) return [name];
    return [...(this.a.get(dnsKey(name)) ?? [])];
  }

  /** Binds a listener; port 0 picks a free ephemeral port. */
  bind(local: Address, ownerPid: number): ListenerState {
    const port = local.port === 0 ? this.ephemeralPort(local.host) : local.port;
    const key = addrKey(local.host, port);
    if (this.listeners.has(key)) throw sysError('EADDRINUSE', 'listen', key);
    const l = new ListenerState({ host: local.host, port }, ownerPid);
    this.listeners.set(key, l);
    return l;
  }

  unbind(l: ListenerState): void {
    const key = addrKey(l.local.host, l.local.port);
    assert(this.listeners.get(key) === l, 'unbind a bound listener');
    this.listeners.delete(key);
  }

  /** The listener a connection to `remote` reaches: the exact address, else the wildcard. */
  find(remote: Address): ListenerState | undefined {
    return this.listeners.get(addrKey(remote.host, remote.port)) ?? this.listeners.get(addrKey('0.0.0.0', remote.port));
  }

  ephemeralPort(host: string): number {
    for (let i = 0; i <= ephemeralLast - ephemeralFirst; i++) {
      const port = this.nextPort;
      this.nextPort = port === ephemeralLast ? ephemeralFirst : port + 1;
      if (!this.listeners.has(addrKey(host, port))) return port;
    }
    throw sysError('EADDRNOTAVAIL', 'bind');
  }

  /** Power loss: every socket is gone (the DNS table and faults are the world's, and stay). */
  reset(): void {
    this.listeners.clear();
  }
}

function addrKey(host: string, port: number): string {
  return `${host}:${port}`;
}

function dnsKey(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function isIpv4(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
}
