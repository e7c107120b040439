// qmail-remote as a function (qmail-remote.c main after argument checks): route, resolve, connect to
// each address in turn, run the dialogue on the first that answers. Returns qmail-remote's whole
// stdout: recipient records then one message record, each ending in NUL. qmail-rspawn calls this
// in-process; bin/qmail-remote prints it.

import type { Sys } from '../sys/types.ts';
import { SysError, type Errno } from '../sys/errors.ts';
import { dnsHardReport, prefMeNone, prefMeRelay, remoteReports } from '../../spec/remote.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { quote } from '../lib/quote.ts';
import type { RemoteConfig } from './config.ts';
import { SmtpConn } from './conn.ts';
import { resolveIp, resolveMxIp, type Target } from './mx.ts';
import { routeFor } from './smtproutes.ts';
import { tcpto, tcptoErr } from './tcpto.ts';
import { smtp, type MessageSource } from './smtp.ts';

export interface RemoteJob {
  /** Strings are one character per byte. */
  host: string;
  sender: string;
  recips: readonly string[];
  message: MessageSource;
}

/** The report bytes: records joined, each NUL-terminated. */
export function reportBytes(records: readonly string[]): Uint8Array {
  return latin1Bytes(records.map((r) => `${r}\0`).join(''));
}

/** addrmangle without CNAME: box quoted as needed + @host; no @ → unchanged. */
export function mangle(addr: string): string {
  const at = addr.lastIndexOf('@');
  if (at < 0) return addr;
  return `${quote(addr.slice(0, at))}${addr.slice(at)}`;
}

export async function qmailRemote(sys: Sys, cfg: RemoteConfig, job: RemoteJob): Promise<Uint8Array> {
  const out: string[] = [];
  out.push(await deliverRemote(sys, cfg, job, out));
  return reportBytes(out);
}

async function deliverRemote(sys: Sys, cfg: RemoteConfig, job: RemoteJob, out: string[]): Promise<string> {
  const route = routeFor(cfg.routes, job.host);
  const host = route?.relay ?? job.host;
  const port = route?.port ?? 25;
  const resolved = route !== null ? await resolveIp(sys, host, 0) : await resolveMxIp(sys, host, sys.random.u32());
  if ('fail' in resolved) return resolved.fail === 'soft' ? remoteReports.dnsTemp : dnsHardReport(host);
  if (resolved.soft && resolved.targets.length === 0) return remoteReports.dnsTemp;
  if (resolved.targets.length === 0) return remoteReports.noMx;
  // ipme is not known through Sys: no address counts as ours (spec/remote.ts prefMeNone).
  const prefme = route !== null ? prefMeRelay : prefMeNone;
  const tryable = resolved.targets.filter((t) => t.pref < prefme);
  if (tryable.length === 0) return remoteReports.ambigMx;
  const sender = mangle(job.sender);
  const recips = job.recips.map(mangle);
  for (const t of tryable) {
    const seen = cfg.tcptoPath === null ? { skip: false, wasThere: false } : await tcpto(sys, cfg.tcptoPath, t.ip);
    if (seen.skip) continue;
    const c = await connectTo(sys, t, port, cfg.timeoutConnectMs);
    if (cfg.tcptoPath !== null) await tcptoErr(sys, cfg.tcptoPath, t.ip, c === 'ETIMEDOUT', seen.wasThere);
    if (typeof c !== 'number') continue;
    const fd = c;
    const conn = new SmtpConn(sys, fd, cfg.timeoutRemoteMs);
    return smtp({ sys, conn, ip: t.ip, helohost: cfg.helohost, sender, recips, message: job.message, out });
  }
  return remoteReports.noConn;
}

/** The connected fd, or the errno of the failure. */
async function connectTo(sys: Sys, t: Target, port: number, timeoutMs: number): Promise<number | Errno> {
  try {
    const c = await sys.net.connect({ host: t.ip, port }, timeoutMs);
    return c.fd;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    sys.log.event('info', 'remote.connect_failed', { ip: t.ip, port, code: e.code });
    return e.code;
  }
}
