// Fixtures for the qmail-remote and qmail-rspawn simulator tests: an installed world, scripted SMTP
// peers on simulated hosts, and runs of the installed programs with their fd 1 captured.

import type { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds, type Installation } from '../../sim/install.ts';
import { SmtpPeer, type PeerScript } from '../../sim/smtp-peer.ts';
import { newKernel } from '../sim/helpers.ts';

export const nul = '\0';
export const latin1 = (b: Uint8Array): string => String.fromCharCode(...b);

export interface RemoteWorld {
  k: Kernel;
  inst: Installation;
}

export async function remoteWorld(seed: number, controls: Record<string, string> = {}): Promise<RemoteWorld> {
  const k = newKernel(seed);
  const inst = await installQmail(k);
  for (const [name, text] of Object.entries(controls)) k.writeFile(`${inst.home}/control/${name}`, text, { uid: 0, gid: 0, mode: 0o644 });
  return { k, inst };
}

/** Starts a scripted peer listening on ip:port. */
export function startPeer(w: RemoteWorld, ip: string, script: PeerScript, port = 25): SmtpPeer {
  const peer = new SmtpPeer({ host: ip, port }, script);
  const name = `smtp-peer-${ip}-${port}`;
  w.k.programs.register(name, peer.program());
  w.k.install(`/bin/${name}`, name, { uid: 0, gid: 0, mode: 0o755 });
  w.k.spawn(`/bin/${name}`, [name], { ip });
  return peer;
}

/** Runs bin/qmail-remote as qmailr with the message on fd 0; its fd 1 as latin1 and the elapsed
 *  virtual time. */
export async function runRemote(w: RemoteWorld, args: string[], message: string): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = w.k.clock.monotonicMs();
  const h = w.k.spawn(`${w.inst.home}/bin/qmail-remote`, ['qmail-remote', ...args], {
    uid: simIds.users.qmailr,
    gid: simIds.groups.qmail,
    env: { QMAILHOME: w.inst.home },
    stdin: message,
    ip: '10.0.0.1',
  });
  const done = h.wait();
  await w.k.run({ until: () => h.status() !== null });
  const st = await done;
  return { code: st.code, out: latin1(h.output(1)), ms: w.k.clock.monotonicMs() - t0 };
}
