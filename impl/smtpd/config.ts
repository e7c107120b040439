// qmail-smtpd's start-up (notqmail qmail-smtpd.c setup): controls from <home>/control and the
// tcpserver environment, into an SmtpdConfig. Missing greeting and me, or any unreadable control,
// is "421 unable to read controls" (the caller replies and exits 1).

import type { Sys } from '../sys/types.ts';
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
  let databytes = await c.readint('databytes', databytesDefault);
  const envBytes = env['DATABYTES'];
  if (envBytes !== undefined) databytes = scanUlong(envBytes);
  const remoteHost = env['TCPREMOTEHOST'] ?? 'unknown';
  const localIps = new Set(['127.0.0.1', '0.0.0.0']);
  if (env['TCPLOCALIP'] !== undefined) localIps.add(env['TCPLOCALIP']);
  const cfg: SmtpdConfig = {
    greeting,
    local: env['TCPLOCALHOST'] ?? env['TCPLOCALIP'] ?? 'unknown',
    remoteIp: env['TCPREMOTEIP'] ?? 'unknown',
    remoteHost,
    remoteInfo: env['TCPREMOTEINFO'] ?? null,
    relayClient: env['RELAYCLIENT'] ?? null,
    rcptHosts: { map: rh === null ? null : new ConstMap(rh, false), more: moreBytes === null ? null : CdbReader.open(moreBytes) },
    badMailFrom: bmf === null ? null : new ConstMap(bmf, false),
    databytes,
    localIp: { host: liphost, ips: localIps },
  };
  return { cfg, timeoutMs: timeout * 1000 };
}

/** scan_ulong: the leading decimal digits, 0 when none. */
function scanUlong(s: string): number {
  const m = /^[0-9]+/.exec(s);
  if (m === null) return 0;
  const v = Number(m[0]);
  return Number.isSafeInteger(v) ? v : Number.MAX_SAFE_INTEGER;
}
