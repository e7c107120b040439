// queue-fix: create, check and repair a qmail queue.
//
// Usage:   queue-fix [-n] [-v] [-u] [queuedir]
//            -n  check only: read-only, report what would be fixed, change nothing
//            -v  also print "ok: <path>" for every directory and file found sound
//            -u  use my own uid and gid as every owner instead of qmailq, qmails, qmailr and group
//                qmail: for queues a non-root user makes for simulation and tests (qmail-setup
//                uses it when not run as root)
// Queue:   queuedir (relative to the current directory), else $QUEUEDIR, else $QMAILHOME/queue;
//          split and BIGTODO from CONFSPLIT/BIGTODO or control/conf-split, control/conf-bigtodo
//          (impl/shared/queue-config.ts).
// Runs as: root, since the queue belongs to three users; anyone with -u. Stop qmail first to
//          move files: a move needs lock/sendmutex, which a running qmail-send holds.
// Does:    every directory of spec/queue.ts queueDirs with its split subdirectories, owners and
//          modes; lock/tcpto (1024 NUL bytes), lock/sendmutex (empty), lock/trigger (a FIFO, 0622;
//          anything else there is replaced); owner and mode of every message file
//          (messageFileModes); a message in the wrong split subdirectory is moved (qmail-upq);
//          leftovers (todo or intd without mess, local/remote without info, ...) are reported,
//          never deleted: removing message data is qmail-send's job.
// Output:  stdout, one line per finding:   <verdict>: <action> [(<detail>)]
//            fixed: mkdir queue/mess/17 (0750 qmailq:qmail)
//            fixed: chmod 0700 queue/pid (was 0755)
//            fixed: chown qmailq:qmail queue/pid (was 0:0)
//            fixed: mkfifo queue/lock/trigger (0622 qmails:qmail)
//            fixed: mv queue/mess/3/457 queue/mess/20/457 (wrong split directory)
//            would fix: <action> (...)        -n: what a run without -n would do
//            cannot fix: <action> (<why>)     e.g. "(was 0:0; not root)", "(qmail-send is running)"
//            warning: <finding> (<detail>)    reported only: leftovers, unexpected files, sizes
//            ok: <path>                       -v only
//          Paths are shown from the queue directory's name ("queue/..."). A sound queue prints
//          nothing. Fatal errors go to stderr: "queue-fix: fatal: ...".
// Exit:    0 sound, or everything fixed (warnings do not count); 1 problems remain: -n found
//          something to fix, or a repair was impossible ("cannot fix"); 100 usage; 111 temporary:
//          unknown user or group, bad split configuration, a system call failed.
// Crash safety: every mkdir and file creation is followed by an fsync of the parent directory;
//          a move is link, fsync, unlink, fsync. Each repair is idempotent, so a run cut short is
//          finished by the next one, and nothing here ever deletes message data.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import type { QueueLayout } from '../../spec/queue.ts';
import { errorStr } from '../lib/error-str.ts';
import { BufferedWriter, writeAll } from '../shared/fdio.ts';
import { qmailHome, queueLayout } from '../shared/queue-config.ts';
import { parseOptions, usage } from './options.ts';
import { ownersByName, ownersSelf, type Owners } from './owners.ts';
import { fixQueue } from './repair.ts';
import { Report } from './report.ts';

const exit = { sound: 0, problems: 1, usage: 100, temp: 111 } as const;
const ascii = new TextEncoder();

export async function main(sys: Sys): Promise<number> {
  const opts = parseOptions(sys.proc.self.argv.slice(1));
  if (opts === null) {
    await writeAll(sys, 2, ascii.encode(usage));
    return exit.usage;
  }
  // Anything created is chmodded to its exact mode afterwards; until then it is private.
  sys.proc.umask(0o077);
  const layout = await resolveLayout(sys, opts.queueDir);
  if (typeof layout === 'string') return fatal(sys, layout);
  const owners: Owners | { missing: string } = opts.selfOwned ? ownersSelf(sys) : await ownersByName(sys, ['qmailq', 'qmails', 'qmailr']);
  if ('missing' in owners) return fatal(sys, `unknown ${owners.missing}`);

  const out = new BufferedWriter(sys, 1);
  const report = new Report((line) => out.write(ascii.encode(line)), opts.verbose);
  try {
    await fixQueue(sys, layout, { dryRun: opts.dryRun, owners, report });
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    await out.flush();
    return fatal(sys, `${e.syscall}${e.path === undefined ? '' : ` ${e.path}`}: ${errorStr(e.code)}`);
  }
  await out.flush();
  return report.problems > 0 ? exit.problems : exit.sound;
}

/** The queue and its layout, or why they cannot be known. */
async function resolveLayout(sys: Sys, queueDir: string | null): Promise<QueueLayout | string> {
  const home = qmailHome(sys);
  const layout = await queueLayout(sys, home);
  if ('error' in layout) return `${layout.error}: ${layout.detail}`;
  if (queueDir === null) return layout;
  const dir = queueDir.startsWith('/') ? queueDir : `${sys.proc.cwd()}/${queueDir}`;
  return { ...layout, dir: dir.length > 1 ? dir.replace(/\/+$/, '') : dir };
}

async function fatal(sys: Sys, why: string): Promise<number> {
  await writeAll(sys, 2, ascii.encode(`queue-fix: fatal: ${why}\n`));
  return exit.temp;
}
