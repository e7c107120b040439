// qmail-setup: install a working qmail under a home directory.
//
// Usage:   qmail-setup --home DIR [--create-users] [--split N] [--bigtodo] [--node PATH]
//            --create-users  add the missing groups (qmail, nofiles) and users (alias, qmaild,
//                            qmaill, qmailp, qmailq, qmailr, qmails) with groupadd/useradd
//            --split N       write control/conf-split (default: keep it, 151 when absent)
//            --bigtodo       write control/conf-bigtodo 1 (default: keep it, 0 when absent)
//            --node PATH     the node the setuid helper starts (default: the first on PATH)
// Runs as: root, on the host (it runs cc, groupadd and useradd). Without root everything is owned
//          by the invoking user (queue-fix -u) and bin/qmail-queue cannot be setuid: good for
//          simulation and tests, not for production.
// Makes:   DIR 0755 root:qmail with bin/ (every program of the build, 0755), libexec/qmail-queue
//          (the qmail-queue bundle), bin/qmail-queue (the setuid-qmailq helper, 04711, compiled
//          with cc -O2 -Wall -Werror from dist/setuid/qmail-queue.c), control/ (conf-split,
//          conf-bigtodo, me), users/, alias/ (alias:qmail 02755), and queue/ through queue-fix's
//          code, in-process, each split directory with the TOPDIR attribute where chattr(1)
//          works (impl/setup/spread.ts). The build is found next to this program: sys.proc.self.exe's
//          directory (dist/bin) and ../setuid.
// Output:  stdout, queue-fix's grammar (impl/queue-fix/main.ts): "fixed: mkdir ...",
//          "fixed: install DIR/bin/qmail-qread (0755 root:qmail)", "fixed: useradd ...",
//          "warning: ...". A second run with the same options prints nothing and changes nothing.
// Exit:    0 installed; 1 something could not be fixed; 100 usage, or a request that cannot be
//          met as given (--create-users without root, not run from a build); 111 temporary: a
//          missing user (use --create-users), cc or useradd missing or failing, a system call
//          failing. Messages on stderr: "qmail-setup: fatal: ...".
// Crash safety: every file is written beside its target, fsynced and renamed over it; every
//          mkdir and rename is followed by an fsync of the directory. Each step is idempotent, so
//          running qmail-setup again finishes an interrupted run.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { qmailUsers } from '../../spec/queue.ts';
import { errorStr } from '../lib/error-str.ts';
import { BufferedWriter, writeAll } from '../shared/fdio.ts';
import { parentOf, type FixContext } from '../queue-fix/context.ts';
import { ownersByName, ownersSelf, type Owners } from '../queue-fix/owners.ts';
import { fixQueue } from '../queue-fix/repair.ts';
import { Report } from '../queue-fix/report.ts';
import { findProgram } from './commands.ts';
import { writeControls } from './control-files.ts';
import { SetupFailure, permanent, temporary } from './failure.ts';
import { installHome } from './home.ts';
import { parseSetupOptions, safePath, usage, type SetupOptions } from './options.ts';
import { installPrograms } from './programs.ts';
import { installHelper } from './setuid-helper.ts';
import { spreader } from './spread.ts';
import { createUsers } from './users.ts';

const exit = { installed: 0, problems: 1 } as const;
const ascii = new TextEncoder();

export async function main(sys: Sys): Promise<number> {
  const opts = parseSetupOptions(sys.proc.self.argv.slice(1));
  if (opts === null) {
    await writeAll(sys, 2, ascii.encode(usage));
    return 100;
  }
  sys.proc.umask(0o022);
  const out = new BufferedWriter(sys, 1);
  const report = new Report((line) => out.write(ascii.encode(line)), false);
  try {
    await setup(sys, opts, report);
  } catch (e) {
    await out.flush();
    if (e instanceof SetupFailure) return fatal(sys, e.code, e.message);
    if (e instanceof SysError) return fatal(sys, 111, `${e.syscall}${e.path === undefined ? '' : ` ${e.path}`}: ${errorStr(e.code)}`);
    throw e;
  }
  await out.flush();
  return report.problems > 0 ? exit.problems : exit.installed;
}

async function setup(sys: Sys, opts: SetupOptions, report: Report): Promise<void> {
  const root = sys.proc.self.euid === 0;
  if (opts.createUsers && !root) throw permanent('--create-users needs root');
  if (opts.createUsers) await createUsers(sys, opts.home, report);
  const owners = root ? await namedOwners(sys) : ownersSelf(sys);
  const buildBin = parentOf(sys.proc.self.exe);
  if (buildBin === `${opts.home}/bin`) throw permanent(`run qmail-setup from the build (dist/bin/qmail-setup), not from ${buildBin}`);
  const ctx: FixContext = { sys, root: opts.home, shownAs: `${opts.home}/`, dryRun: false, report };
  const rootOwned = { owner: owners.of(qmailUsers.owner), mode: 0o644 };

  await installHome(ctx, owners);
  await installPrograms(ctx, owners, buildBin, { ...rootOwned, mode: 0o755 });
  const settings = await writeControls(ctx, owners, rootOwned, opts);
  await installHelper(ctx, owners, {
    source: `${parentOf(buildBin)}/setuid/qmail-queue.c`,
    home: opts.home,
    node: await nodePath(sys, opts),
    want: root ? { owner: owners.of(qmailUsers.queue), mode: 0o4711 } : { ...rootOwned, mode: 0o755 },
    setuid: root,
  });
  const spread = await spreader(sys);
  await fixQueue(sys, { dir: `${opts.home}/queue`, ...settings }, { dryRun: false, owners, report, shownAs: `${opts.home}/queue`, ...(spread === undefined ? {} : { spread }) });
}

async function namedOwners(sys: Sys): Promise<Owners> {
  const { owner, alias, queue, remote, send } = qmailUsers;
  const owners = await ownersByName(sys, [owner, alias, queue, remote, send]);
  if ('missing' in owners) throw temporary(`unknown ${owners.missing} (run qmail-setup --create-users, or see INSTALL.ids)`);
  return owners;
}

async function nodePath(sys: Sys, opts: SetupOptions): Promise<string> {
  const node = opts.node ?? (await findProgram(sys, 'node'));
  if (node === null) throw temporary('cannot find node on PATH: give --node PATH');
  if (!safePath.test(node)) throw permanent(`node path has characters the helper cannot carry: ${node}`);
  return node;
}

async function fatal(sys: Sys, code: number, why: string): Promise<number> {
  await writeAll(sys, 2, ascii.encode(`qmail-setup: fatal: ${why}\n`));
  return code;
}
