// qmail's prioq (nq:prioq.c): a min-heap of (time, id). Ties are broken by insertion order, so the
// order is fixed by the inputs alone (qmail leaves it to the heap's shape). Pure.

export interface PrioqEntry {
  id: number;
  /** Seconds since the epoch. */
  dt: number;
}

interface Slot extends PrioqEntry {
  seq: number;
}

export class Prioq {
  private readonly heap: Slot[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  insert(e: PrioqEntry): void {
    this.heap.push({ ...e, seq: this.seq++ });
    this.up(this.heap.length - 1);
  }

  min(): PrioqEntry | undefined {
    const top = this.heap[0];
    return top === undefined ? undefined : { id: top.id, dt: top.dt };
  }

  delmin(): PrioqEntry | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop() as Slot;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return { id: top.id, dt: top.dt };
  }

  /** Every entry, in no particular order (pqfinish, pqrun). */
  entries(): PrioqEntry[] {
    return this.heap.map((s) => ({ id: s.id, dt: s.dt }));
  }

  /** Sets every entry's time to dt (pqrun: SIGALRM). Order among them stays by insertion. */
  setAll(dt: number): void {
    const all = [...this.heap].sort((a, b) => a.seq - b.seq);
    this.heap.length = 0;
    for (const s of all) this.insert({ id: s.id, dt });
  }

  private less(a: Slot, b: Slot): boolean {
    return a.dt < b.dt || (a.dt === b.dt && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as Slot, h[p] as Slot)) return;
      [h[i], h[p]] = [h[p] as Slot, h[i] as Slot];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as Slot, h[m] as Slot)) m = l;
      if (r < h.length && this.less(h[r] as Slot, h[m] as Slot)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as Slot, h[i] as Slot];
      i = m;
    }
  }
}
