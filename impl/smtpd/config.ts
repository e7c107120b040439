// qmail-smtpd's start-up (notqmail qmail-smtpd.c setup): controls from <home>/control and the
// tcpserver environment, into an SmtpdConfig. Missing greeting and me, or any unreadable control,
// is "421 unable to read controls" (the caller replies and exits 1).
//
// The listener (./listen.ts) keeps what it read from the controls across connections (SetupCache)
// and checks it per connection with stats alone (impl/shared/control-snapshot.ts): a control
// changed takes effect for the next connection, as with a fresh qmail-smtpd.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { Controls } from '../shared/controls.ts';
import { readFileOrNull } from '../shared/fdio.ts';
import { controlSnapshotHolds, takeControlSnapshot, type ControlSnapshot } from '../shared/control-snapshot.ts';
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

/** The listener's controls, kept across connections while stats show nothing changed. */
export class SetupCache {
  private kept: { snap: ControlSnapshot; part: ControlPart } | null = null;
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
      if (kept !== null && (await controlSnapshotHolds(this.sys, `${this.home}/control`, kept.snap))) {
        this.hits++;
        return fromControls(kept.part, env);
      }
      this.kept = null;
      this.reads++;
      const startMs = this.sys.clock.nowMs();
      const snap = await takeControlSnapshot(this.sys, `${this.home}/control`, controlNames, startMs).catch((e: unknown) => {
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
}

/** scan_ulong: the leading decimal digits, 0 when none. */
function scanUlong(s: string): number {
  const m = /^[0-9]+/.exec(s);
  if (m === null) return 0;
  const v = Number(m[0]);
  return Number.isSafeInteger(v) ? v : Number.MAX_SAFE_INTEGER;
}
