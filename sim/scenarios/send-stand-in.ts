// A qmail-send stand-in for driving qmail-lspawn in the simulator: it starts the installed
// qmail-lspawn with two pipes, reads the concurrency byte, keeps up to N deliveries in flight on the
// lowest free slots (as qmail-send's del_start does), parses reports as del_dochan does (a NUL ends
// a record only after more than one byte), re-sends a job whose report was Z when asked to (qmail-send
// retries later), and closes lspawn's fd 0 when everything is reported. Everything it saw goes into a
// ledger outside the world, which survives the stand-in's death.

import type { ExitStatus, Fd, Program, Sys } from '../../impl/sys/types.ts';
import { SysError } from '../../impl/sys/errors.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import type { Kernel } from '../kernel.ts';
import type { SpawnHandle } from '../world.ts';

export interface SpawnJob {
  index: number;
  messid: string;
  sender: string;
  recipient: string;
}

export interface Attempt {
  job: SpawnJob;
  /** 1 for the first try. */
  attempt: number;
  delnum: number;
  report: string | null;
}

export interface SendRunOpts {
  jobs: SpawnJob[];
  /** Deliveries in flight at most (and at most lspawn's concurrency byte). */
  concurrency?: number;
  env?: Record<string, string>;
  defaultDelivery?: string;
  /** A job reported Z is sent again, up to this many more times. */
  retryTemp?: number;
  /** Keep lspawn's fd 0 open this long after the last report (for idle timeouts). */
  holdMs?: number;
}

export class SendLedger {
  concurrencyByte: number | null = null;
  readonly attempts: Attempt[] = [];
  /** Reports for a slot with nothing in flight: a doubled or invented report. */
  readonly mangled: string[] = [];
  /** Attempts in flight when lspawn's fd 1 reached EOF (lspawn died). */
  unreported: Attempt[] = [];
  lspawnPid = 0;
  lspawnStatus: ExitStatus | null = null;
  maxInFlight = 0;
  finished = false;

  reportsOf(index: number): Attempt[] {
    return this.attempts.filter((a) => a.job.index === index);
  }

  /** The last report each job got (null: none). */
  finalReports(): Map<number, string | null> {
    const out = new Map<number, string | null>();
    for (const a of this.attempts) out.set(a.job.index, a.report);
    return out;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Registers the stand-in once per world; start() runs one qmail-send life with its own ledger. */
export class SendStandIns {
  private readonly runs = new Map<string, { opts: SendRunOpts; ledger: SendLedger }>();
  private next = 0;

  constructor(
    private readonly k: Kernel,
    private readonly home: string,
  ) {
    k.programs.register('sim-send', (sys) => this.main(sys));
    k.install(`${home}/bin/sim-send`, 'sim-send', { uid: 0, gid: 0, mode: 0o755 });
  }

  start(opts: SendRunOpts): { ledger: SendLedger; handle: SpawnHandle } {
    const id = String(this.next++);
    const ledger = new SendLedger();
    this.runs.set(id, { opts, ledger });
    const handle = this.k.spawn(`${this.home}/bin/sim-send`, ['sim-send', id], { uid: 0, gid: 0 });
    void handle.wait().then(() => {
      ledger.finished = true;
    });
    return { ledger, handle };
  }

  /** Starts a run and runs the world until the stand-in is gone. */
  async run(opts: SendRunOpts): Promise<SendLedger> {
    const { ledger, handle } = this.start(opts);
    await this.k.run({ until: () => handle.status() !== null });
    return ledger;
  }

  private main: Program = async (sys) => {
    const run = this.runs.get(sys.proc.self.argv[1] ?? '');
    if (run === undefined) return 100;
    await standIn(sys, this.home, run.opts, run.ledger);
    return 0;
  };
}

async function standIn(sys: Sys, home: string, opts: SendRunOpts, ledger: SendLedger): Promise<void> {
  const child = await sys.proc.spawn(`${home}/bin/qmail-lspawn`, ['qmail-lspawn', opts.defaultDelivery ?? './Maildir/'], {
    env: { QMAILHOME: home, ...opts.env },
    cwd: '/',
    fds: ['pipe', 'pipe', 2],
  });
  ledger.lspawnPid = child.pid;
  const cmdFd = child.fds[0] as Fd;
  const repFd = child.fds[1] as Fd;
  const first = new Uint8Array(1);
  if ((await readOrEof(sys, repFd, first)) === 1) ledger.concurrencyByte = first[0] as number;
  const limit = Math.min(ledger.concurrencyByte ?? 0, opts.concurrency ?? 255);
  const d = new Dispatcher(sys, cmdFd, limit, opts, ledger);
  d.fill();
  let line: number[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await readOrEof(sys, repFd, buf);
    if (n === 0) break;
    for (const b of buf.subarray(0, n)) {
      line.push(b);
      if (b !== 0 || line.length <= 1) continue;
      d.report(line[0] as number, dec.decode(Uint8Array.from(line.slice(1, -1))));
      line = [];
    }
  }
  ledger.unreported = d.inFlight();
  await d.close();
  await sys.fs.close(repFd);
  ledger.lspawnStatus = await child.wait();
}

class Dispatcher {
  private readonly slots = new Map<number, Attempt>();
  private readonly queue: { job: SpawnJob; attempt: number }[];
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private broken = false;

  constructor(
    private readonly sys: Sys,
    private readonly cmdFd: Fd,
    private readonly limit: number,
    private readonly opts: SendRunOpts,
    private readonly ledger: SendLedger,
  ) {
    this.queue = opts.jobs.map((job) => ({ job, attempt: 1 }));
  }

  inFlight(): Attempt[] {
    return [...this.slots.values()];
  }

  /** Sends commands on free slots; closes fd 0 once everything is reported. */
  fill(): void {
    while (!this.broken && this.queue.length > 0 && this.slots.size < this.limit) {
      const next = this.queue.shift() as { job: SpawnJob; attempt: number };
      let delnum = 0;
      while (this.slots.has(delnum)) delnum++;
      const a: Attempt = { ...next, delnum, report: null };
      this.slots.set(delnum, a);
      this.ledger.attempts.push(a);
      this.ledger.maxInFlight = Math.max(this.ledger.maxInFlight, this.slots.size);
      const j = a.job;
      const cmd = concatBytes([Uint8Array.of(delnum), enc.encode(`${j.messid}\0${j.sender}\0${j.recipient}\0`)]);
      this.write(() => writeAll(this.sys, this.cmdFd, cmd));
    }
    if (this.queue.length === 0 && this.slots.size === 0 && !this.closed) {
      this.closed = true;
      const hold = this.opts.holdMs ?? 0;
      this.write(async () => {
        if (hold > 0) await this.sys.clock.sleep(hold);
        await this.sys.fs.close(this.cmdFd);
      });
    }
  }

  report(delnum: number, text: string): void {
    const a = this.slots.get(delnum);
    if (a === undefined) {
      this.ledger.mangled.push(`slot ${delnum}: ${JSON.stringify(text)}`);
      return;
    }
    this.slots.delete(delnum);
    a.report = text;
    if (text.startsWith('Z') && a.attempt <= (this.opts.retryTemp ?? 0)) this.queue.push({ job: a.job, attempt: a.attempt + 1 });
    this.fill();
  }

  async close(): Promise<void> {
    await this.writing;
    if (!this.closed) {
      this.closed = true;
      await this.sys.fs.close(this.cmdFd).catch(() => undefined);
    }
  }

  private write(f: () => Promise<void>): void {
    this.writing = this.writing.then(async () => {
      if (this.broken) return;
      try {
        await f();
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        this.broken = true;
      }
    });
  }
}

async function readOrEof(sys: Sys, fd: Fd, buf: Uint8Array): Promise<number> {
  try {
    return await sys.fs.read(fd, buf, 0, buf.length, null);
  } catch (e) {
    if (e instanceof SysError) return 0;
    throw e;
  }
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
