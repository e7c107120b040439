// The controls address classification reads (impl/lib/rewrite.ts): envnoathost, locals,
// percenthack, virtualdomains, as qmail-send's getcontrols and todo-proc's do. Shared by todo-proc
// (which classifies) and qmail-send (which strips virtual-domain prepends in bounces).

import { controlDefaults } from '../../spec/send.ts';
import { ConstMap } from '../lib/constmap.ts';
import type { RewriteControls } from '../lib/rewrite.ts';
import type { Controls } from './controls.ts';

/** null when neither control/locals nor control/me exists: qmail refuses to start then. Read
 *  errors other than ENOENT are thrown. */
export async function readRewriteControls(ctl: Controls): Promise<RewriteControls | null> {
  const envnoathost = await ctl.rldef('envnoathost', true, controlDefaults.envnoathost);
  const locals = await ctl.readfile('locals', true);
  if (locals === null) return null;
  return {
    envnoathost,
    locals: new ConstMap(locals, false),
    percenthack: new ConstMap((await ctl.readfile('percenthack', false)) ?? [], false),
    virtualdomains: new ConstMap((await ctl.readfile('virtualdomains', false)) ?? [], true),
  };
}
