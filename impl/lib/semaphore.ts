// A counting semaphore: at most `max` holders at once, the rest wait in FIFO order. Pure (no Sys):
// its waits are promises that settle when a holder releases.

export class Semaphore {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {
    if (!(Number.isInteger(max) && max >= 1)) throw new Error(`Semaphore: max must be a positive integer: ${max}`);
  }

  /** Runs f holding one unit; releases it whatever f does. */
  async with<T>(f: () => Promise<T>): Promise<T> {
    if (this.held >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held++;
    try {
      return await f();
    } finally {
      // The unit passes straight to the next waiter (held stays the same), or is given back.
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.held--;
    }
  }
}
