// qmail-smtpd's start-up (notqmail qmail-smtpd.c setup): controls from <home>/control and the
// tcpserver environment, into an SmtpdConfig. Missing greeting and me, or any unreadable control,
// is "421 unable to read controls" (the caller replies and exits 1).
//
// The listener (./listen.ts) keeps what it read from the controls across connections (SetupCache)
// and checks it per connection with stats alone: the control directory (a file created, removed
// or renamed changes its mtime) and each control that exists. Any difference, or a file changed
// too recently for its timestamps to tell a later change apart, reads everything afresh: a
// control changed takes effect for the next connection, as with a fresh qmail-smtpd.

import type { Stat, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { Controls } from '../shared/controls.ts';
import { readFileOrNull } from '../shared/fdio.ts';
import { ConstMap } from '../lib/constmap.ts';
import { CdbError, CdbReader } from '../lib/cdb.ts';
import { databytesDefault, timeoutSmtpdDefaultSec } from '../../spec/smtpd.ts';
import type { SmtpdConfig } from './engine.ts';

export interface SmtpdSetup {
  cfg: SmtpdConfig;
  timeoutMs: number;
}

/** null: the controls cannot be read (qmail's die_control). Throws only for bugs. */
export async function loadSetup(sys: Sys, home: string, env: Record<string, string>): Promise<SmtpdSetup | null> {
  try {
    return await load(sys, home, env);
  } catch (e) {
    if (e instanceof SysError || e instanceof CdbError) return null;
    throw e;
  }
}

async function load(sys: Sys, home: string, env: Record<string, string>): Promise<SmtpdSetup | null> {
  const part = await readControls(sys, home);
  return part === null ? null : fromControls(part, env);
}

/** What the controls say, before the connection's environment: shared by connections. */
interface ControlPart {
  greeting: string;
  liphost: SmtpdConfig['localIp']['host'];
  timeoutSec: number;
  rcptHosts: SmtpdConfig['rcptHosts'];
  badMailFrom: ConstMap | null;
  databytes: number;
}

/** The controls qmail-smtpd reads (control/NAME): SetupCache watches exactly these. */
const controlNames = ['me', 'smtpgreeting', 'localiphost', 'timeoutsmtpd', 'rcpthosts', 'morercpthosts.cdb', 'badmailfrom', 'databytes'] as const;

async function readControls(sys: Sys, home: string): Promise<ControlPart | null> {
  const c = new Controls(sys, home);
  const me = await c.me();
  const greeting = (await c.readline('smtpgreeting')) ?? me;
  if (greeting === null) return null;
  const liphost = (await c.readline('localiphost')) ?? me;
  let timeout = await c.readint('timeoutsmtpd', timeoutSmtpdDefaultSec);
  if (timeout <= 0) timeout = 1;
  const rh = await c.readfile('rcpthosts', false);
  const moreBytes = rh === null ? null : await readFileOrNull(sys, `${home}/control/morercpthosts.cdb`);
  const bmf = await c.readfile('badmailfrom', false);
  const databytes = await c.readint('databytes', databytesDefault);
  return {
    greeting,
    liphost,
    timeoutSec: timeout,
    rcptHosts: { map: rh === null ? null : new ConstMap(rh, false), more: moreBytes === null ? null : CdbReader.open(moreBytes) },
    badMailFrom: bmf === null ? null : new ConstMap(bmf, false),
    databytes,
  };
}

function fromControls(part: ControlPart, env: Record<string, string>): SmtpdSetup {
  let databytes = part.databytes;
  const envBytes = env['DATABYTES'];
  if (envBytes !== undefined) databytes = scanUlong(envBytes);
  const remoteHost = env['TCPREMOTEHOST'] ?? 'unknown';
  const localIps = new Set(['127.0.0.1', '0.0.0.0']);
  if (env['TCPLOCALIP'] !== undefined) localIps.add(env['TCPLOCALIP']);
  const cfg: SmtpdConfig = {
    greeting: part.greeting,
    local: env['TCPLOCALHOST'] ?? env['TCPLOCALIP'] ?? 'unknown',
    remoteIp: env['TCPREMOTEIP'] ?? 'unknown',
    remoteHost,
    remoteInfo: env['TCPREMOTEINFO'] ?? null,
    relayClient: env['RELAYCLIENT'] ?? null,
    rcptHosts: part.rcptHosts,
    badMailFrom: part.badMailFrom,
    databytes,
    localIp: { host: part.liphost, ips: localIps },
  };
  return { cfg, timeoutMs: part.timeoutSec * 1000 };
}

/** A file changed less than this before the controls were read is read again next time: its
 *  timestamps (the kernel's coarse clock) could not tell a later change in the same tick apart. */
export const controlsSettleMs = 2000;

interface Snapshot {
  dir: string;
  /** The controls that existed, with their signatures; the others are absent (dir unchanged). */
  files: Map<string, string>;
}

/** The listener's controls, kept across connections while stats show nothing changed. */
export class SetupCache {
  private kept: { snap: Snapshot; part: ControlPart } | null = null;
  /** Connections served from the kept controls / that read them (tests, diagnostics). */
  hits = 0;
  reads = 0;

  constructor(
    private readonly sys: Sys,
    readonly home: string,
  ) {}

  /** As loadSetup(sys, home, env). */
  async load(env: Record<string, string>): Promise<SmtpdSetup | null> {
    try {
      const kept = this.kept;
      if (kept !== null && (await this.unchanged(kept.snap))) {
        this.hits++;
        return fromControls(kept.part, env);
      }
      this.kept = null;
      this.reads++;
      const startMs = this.sys.clock.nowMs();
      const snap = await this.snapshot(startMs).catch((e: unknown) => {
        if (e instanceof SysError) return null; // the reads below fail or not as qmail-smtpd's would
        throw e;
      });
      const part = await readControls(this.sys, this.home);
      if (part === null) return null;
      if (snap !== null) this.kept = { snap, part };
      return fromControls(part, env);
    } catch (e) {
      if (e instanceof SysError || e instanceof CdbError) return null;
      throw e;
    }
  }

  private path(name: string): string {
    return `${this.home}/control/${name}`;
  }

  /** Taken before the reads, so a change during them shows next time. null: not cacheable (a
   *  dangling symlink, a file or the directory changed too recently). */
  private async snapshot(startMs: number): Promise<Snapshot | null> {
    const settled = (st: Stat): boolean => Math.max(st.mtimeMs, st.ctimeMs) < startMs - controlsSettleMs;
    const dir = await this.sys.fs.stat(`${this.home}/control`);
    let ok = settled(dir);
    const files = new Map<string, string>();
    for (const name of controlNames) {
      const st = await statOrNull(this.sys, this.path(name));
      if (st !== null) {
        files.set(name, signature(st));
        ok &&= settled(st);
      } else if ((await lstatOrNull(this.sys, this.path(name))) !== null) ok = false;
    }
    return ok ? { dir: signature(dir), files } : null;
  }

  /** False on any difference or error: the caller reads everything afresh (and fails as qmail-smtpd would). */
  private async unchanged(snap: Snapshot): Promise<boolean> {
    try {
      if (signature(await this.sys.fs.stat(`${this.home}/control`)) !== snap.dir) return false;
      for (const [name, sig] of snap.files) {
        const st = await statOrNull(this.sys, this.path(name));
        if (st === null || signature(st) !== sig) return false;
      }
      return true;
    } catch (e) {
      if (e instanceof SysError) return false;
      throw e;
    }
  }
}

function signature(st: Stat): string {
  return `${st.dev}:${st.ino}:${st.mode}:${st.uid}:${st.gid}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

async function statOrNull(sys: Sys, path: string): Promise<Stat | null> {
  try {
    return await sys.fs.stat(path);
  } catch (e) {
    if (e instanceof SysError && e.code === 'ENOENT') return null;
    throw e;
  }
}

async function lstatOrNull(sys: Sys, path: string): Promise<Stat | null> {
  try {
    return await sys.fs.lstat(path);
  } catch (e) {
    if (e instanceof SysError && e.code === 'ENOENT') return null;
    throw e;
  }
}

/** scan_ulong: the leading decimal digits, 0 when none. */
function scanUlong(s: string): number {
  const m = /^[0-9]+/.exec(s);
  if (m === null) return 0;
  const v = Number(m[0]);
  return Number.isSafeInteger(v) ? v : Number.MAX_SAFE_INTEGER;
}
