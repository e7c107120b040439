// queue-fix's output: one line per finding on stdout, in this grammar (documented in main.ts):
//
//   <verdict>: <action> [(<detail>)]
//
// verdict: "fixed" (done), "would fix" (-n), "cannot fix" (needs something we lack), "warning"
// (reported, never changed), "ok" (-v only). The action reads like the shell command that does the
// fix: "mkdir queue/mess/17", "chmod 0700 queue/pid", "chown qmailq:qmail queue/pid",
// "mv queue/mess/3/457 queue/mess/20/457". Counts decide the exit code, never the text.

export type Verdict = 'fixed' | 'would fix' | 'cannot fix' | 'warning' | 'ok';

export type Emit = (line: string) => Promise<void>;

export class Report {
  readonly counts: Record<Verdict, number> = { fixed: 0, 'would fix': 0, 'cannot fix': 0, warning: 0, ok: 0 };

  constructor(
    private readonly emit: Emit,
    readonly verbose: boolean,
  ) {}

  async line(verdict: Verdict, action: string, detail?: string): Promise<void> {
    this.counts[verdict]++;
    if (verdict === 'ok' && !this.verbose) return;
    await this.emit(`${verdict}: ${action}${detail === undefined ? '' : ` (${detail})`}\n`);
  }

  /** A repair: done, or only described under -n. */
  async repair(dryRun: boolean, action: string, detail?: string): Promise<void> {
    await this.line(dryRun ? 'would fix' : 'fixed', action, detail);
  }

  /** Something still wrong after this run: -n findings and repairs we could not make. */
  get problems(): number {
    return this.counts['would fix'] + this.counts['cannot fix'];
  }
}

/** "0750": modes are shown in octal, four digits, as chmod takes them. */
export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
