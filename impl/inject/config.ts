// qmail-inject's configuration (spec local.md 3.3): defaultdomain, defaulthost, plusdomain, idhost,
// each from its environment override, else its control file, else control/me, else its own name.

import { injectControls } from '../../spec/inject.ts';
import type { Controls } from '../shared/controls.ts';
import type { InjectConfig } from './compose.ts';

export async function loadConfig(controls: Controls, env: Readonly<Record<string, string>>): Promise<InjectConfig> {
  const one = async (name: keyof typeof injectControls): Promise<string> => {
    const v = env[injectControls[name]];
    if (v !== undefined && v !== '') return v;
    return controls.rldef(name, true, name);
  };
  return { defaultdomain: await one('defaultdomain'), defaulthost: await one('defaulthost'), plusdomain: await one('plusdomain'), idhost: await one('idhost') };
}
