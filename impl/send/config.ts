// qmail-send's controls (nq:qmail-send.c getcontrols, ../shared/spec/queue.md 3.4): the queue
// lifetime, the concurrencies, the bounce addresses, and the maps it still needs after the todo
// split (virtualdomains, to strip prepends in bounces; locals, reread on SIGHUP as qmail does).

import { controlDefaults } from '../../spec/send.ts';
import { ConstMap } from '../lib/constmap.ts';
import type { Controls } from '../shared/controls.ts';

export interface SendConfig {
  lifetime: number;
  concurrency: [number, number];
  bouncefrom: string;
  bouncehost: string;
  /** doublebounceto@doublebouncehost. */
  doublebounceto: string;
  locals: ConstMap;
  virtualdomains: ConstMap;
}

/** null: control/locals and control/me both missing (qmail refuses to start). Other read errors
 *  are thrown (SysError). */
export async function readSendConfig(ctl: Controls): Promise<SendConfig | null> {
  const d = controlDefaults;
  const lifetime = await ctl.readint('queuelifetime', d.queuelifetime);
  const concurrency: [number, number] = [await ctl.readint('concurrencylocal', d.concurrencylocal), await ctl.readint('concurrencyremote', d.concurrencyremote)];
  const bouncefrom = await ctl.rldef('bouncefrom', false, d.bouncefrom);
  const bouncehost = await ctl.rldef('bouncehost', true, d.bouncehost);
  const doublebouncehost = await ctl.rldef('doublebouncehost', true, d.doublebouncehost);
  const doublebounceto = await ctl.rldef('doublebounceto', false, d.doublebounceto);
  const locals = await ctl.readfile('locals', true);
  if (locals === null) return null;
  const vdoms = (await ctl.readfile('virtualdomains', false)) ?? [];
  return {
    lifetime, concurrency, bouncefrom, bouncehost,
    doublebounceto: `${doublebounceto}@${doublebouncehost}`,
    locals: new ConstMap(locals, false),
    virtualdomains: new ConstMap(vdoms, true),
  };
}
