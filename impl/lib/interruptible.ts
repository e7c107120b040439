// Waits, one at a time, that promises which settle once can cut short: a SIGTERM, the first bug in a
// delivery. Racing each wait against such a promise with Promise.race leaks: a promise that has not
// settled keeps the handlers of every race it was in, about 300 bytes each, for the life of the
// process (measured: 93 MB after 300,000 races), and qmail-lspawn, qmail-rspawn and the delivery
// worker each race once per read. Here each interrupting promise gets one handler, once.

type Outcome = { value: number } | { error: unknown };

export class Interruptible {
  private outcome: Outcome | null = null;
  private current: { resolve: (v: number) => void; reject: (e: unknown) => void } | null = null;

  /** Once `on` settles, the wait in progress and every later one end: with `value` when it
   *  resolves, with its error when it rejects. */
  interruptWith(on: Promise<unknown>, value: number): this {
    on.then(
      () => this.end({ value }),
      (error: unknown) => this.end({ error }),
    );
    return this;
  }

  /** p's value, unless an interruption comes first. */
  wait(p: Promise<number>): Promise<number> {
    if (this.outcome !== null) {
      // p is abandoned, as Promise.race abandons it; a later rejection of it is not unhandled.
      p.catch(() => undefined);
      return settle(this.outcome);
    }
    return new Promise<number>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.current = waiter;
      const done = (): void => {
        if (this.current === waiter) this.current = null;
      };
      p.then(
        (v) => {
          done();
          resolve(v);
        },
        (e: unknown) => {
          done();
          reject(e);
        },
      );
    });
  }

  private end(o: Outcome): void {
    this.outcome ??= o;
    const w = this.current;
    this.current = null;
    if (w === null) return;
    if ('value' in this.outcome) w.resolve(this.outcome.value);
    else w.reject(this.outcome.error);
  }
}

function settle(o: Outcome): Promise<number> {
  return 'value' in o ? Promise.resolve(o.value) : Promise.reject(o.error);
}
