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

  // Sifts move the one slot through a hole (no swaps): qmail-send does this for every delivery.
  private up(i: number): void {
    const h = this.heap;
    const moving = h[i] as Slot;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Slot;
      if (!this.less(moving, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = moving;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const moving = h[i] as Slot;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(h[r] as Slot, h[l] as Slot) ? r : l;
      const child = h[c] as Slot;
      if (!this.less(child, moving)) break;
      h[i] = child;
      i = c;
    }
    h[i] = moving;
  }
}
