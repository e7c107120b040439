// bin/qmail-queue: the setuid-qmailq C helper that starts the qmail-queue bundle (docs/setuid.md).
// It is compiled here, at install time, with the home and node paths built in, so that nothing at
// run time is taken from the caller. Each run compiles afresh and installs only when the binary
// differs, so a second run changes nothing.
//
// Without root it cannot be setuid: it is installed 0755, owned by the installing user, and then
// runs qmail-queue as the caller. That is fine for simulation and non-root tests, not production.

import type { Sys } from '../sys/types.ts';
import { readFileOrNull } from '../shared/fdio.ts';
import { abs, shown, type FixContext } from '../queue-fix/context.ts';
import { fixAttributes, type Want } from '../queue-fix/attributes.ts';
import type { Owners } from '../queue-fix/owners.ts';
import { describeStatus, findProgram, runCommand } from './commands.ts';
import { placeFile, sameBytes, unlinkIfThere } from './installed-file.ts';
import { permanent, temporary } from './failure.ts';

export const helperRel = 'bin/qmail-queue';
const tmpRel = 'bin/.qmail-queue.new';

export interface HelperBuild {
  /** The C source (dist/setuid/qmail-queue.c). */
  source: string;
  home: string;
  node: string;
  /** Owner and mode: qmailq 04711 as root, the installer 0755 otherwise. */
  want: Want;
  setuid: boolean;
}

export async function installHelper(ctx: FixContext, owners: Owners, b: HelperBuild): Promise<void> {
  if ((await readFileOrNull(ctx.sys, b.source)) === null) throw permanent(`cannot find the setuid helper source ${b.source}: run qmail-setup from the build (dist/bin)`);
  await compile(ctx.sys, b, abs(ctx, tmpRel));
  const fresh = await readFileOrNull(ctx.sys, abs(ctx, tmpRel));
  const old = await readFileOrNull(ctx.sys, abs(ctx, helperRel));
  if (fresh === null) throw temporary(`cc wrote no ${abs(ctx, tmpRel)}`);
  if (old !== null && sameBytes(old, fresh)) {
    await unlinkIfThere(ctx, tmpRel);
    await fixAttributes(ctx, owners, helperRel, await ctx.sys.fs.stat(abs(ctx, helperRel)), b.want);
    return;
  }
  await placeFile(ctx, owners, tmpRel, helperRel, b.want);
  if (!b.setuid) {
    await ctx.report.line('warning', `${shown(ctx, helperRel)} is not setuid`, 'not root: it runs qmail-queue as its caller; fine for simulation and tests, not for production');
  }
}

async function compile(sys: Sys, b: HelperBuild, out: string): Promise<void> {
  const cc = await findProgram(sys, 'cc');
  if (cc === null) throw temporary('cannot find cc: qmail-setup compiles the setuid helper bin/qmail-queue; install a C compiler (gcc)');
  // The paths passed safePath (options.ts), so they need no escaping inside the C string literal.
  const args = ['cc', '-O2', '-Wall', '-Werror', `-DQMAILHOME="${b.home}"`, `-DNODE="${b.node}"`, '-o', out, b.source];
  const status = await runCommand(sys, cc, args);
  if (status.code !== 0) throw temporary(`cc failed compiling ${b.source} (${describeStatus(status)})`);
}
