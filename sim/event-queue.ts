// The kernel's agenda: a binary min-heap of events ordered by (virtual time in µs, seq). seq is a
// global counter, so two events at the same instant run in the order they were scheduled, and the
// order never depends on anything but the seed.

import { assert } from './assert.ts';

export interface SimEvent {
  readonly tUs: number;
  readonly seq: number;
  /** The process whose code or syscall this is; null for the kernel's own events. */
  readonly owner: { alive: boolean } | null;
  readonly run: () => void;
  cancelled: boolean;
}

export class EventQueue {
  private heap: SimEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(ev, h[parent] as SimEvent)) break;
      h[i] = h[parent] as SimEvent;
      i = parent;
    }
    h[i] = ev;
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r] as SimEvent, h[l] as SimEvent) ? r : l;
      if (!before(h[c] as SimEvent, last)) break;
      h[i] = h[c] as SimEvent;
      i = c;
    }
    h[i] = last;
    assert(h[0] !== undefined, 'heap root after pop');
    return top;
  }

  clear(): void {
    this.heap = [];
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.tUs < b.tUs || (a.tUs === b.tUs && a.seq < b.seq);
}
