// Tasks: concurrent work a program started and must wait for, where any task's throw is the
// program's bug. The first throw rejects `failed` (race it against any other wait) and every later
// wait on the set; nothing is left as an unhandled rejection.

export class Tasks {
  private readonly running = new Set<Promise<void>>();
  private error: { e: unknown } | null = null;
  private fail: (e: unknown) => void = () => undefined;
  /** Rejects with the first task's throw; never settles otherwise. */
  readonly failed: Promise<never>;

  constructor() {
    this.failed = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.failed.catch(() => undefined);
  }

  get size(): number {
    return this.running.size;
  }

  add(task: Promise<void>): void {
    const p = task.then(
      () => undefined,
      (e: unknown) => {
        this.error ??= { e };
        this.fail(e);
      },
    );
    this.running.add(p);
    void p.then(() => this.running.delete(p));
  }

  /** Resolves when no task is left; rejects with the first throw. */
  async settled(): Promise<void> {
    while (this.running.size > 0) {
      await Promise.race([...this.running, this.failed]);
    }
    if (this.error !== null) throw this.error.e;
  }
}
