// V8 flags a program sets for itself at start (HostSysOptions.v8Flags), for the flags that belong to
// one program's life rather than to every daemon's #! line (spec/spawn.ts daemonNodeFlags).
//
// V8 reads its tiering flags when it decides to optimize a function, so flags set here, before
// the program's code runs hot, govern all of it (test/sys/host-v8-flags.test.ts checks that they
// do). A flag V8 does not know would be ignored with a warning: that is a bug here, so only the
// `--name=value` and `--[no-]name` shapes pass, and the caller's list is fixed in its source.

import { setFlagsFromString } from 'node:v8';

const flagShape = /^--[a-z][a-z0-9-]*(=[0-9a-z._-]+)?$/;

/** Sets each flag; throws on anything that is not one plain V8 flag. */
export function applyV8Flags(flags: readonly string[]): void {
  for (const f of flags) {
    if (!flagShape.test(f)) throw new Error(`v8 flag ${JSON.stringify(f)}: not a single --flag[=value]`);
    setFlagsFromString(f);
  }
}
