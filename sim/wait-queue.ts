// A list of blocked syscalls waiting for a state change (data in a pipe, a lock released, a child
// dead). Waking does not complete anything by itself: each waiter schedules a retry event, and the
// retry looks at the state again, because another process may get there first.

export class WaitQueue {
  private waiters: Array<() => void> = [];

  add(waiter: () => void): void {
    this.waiters.push(waiter);
  }

  get size(): number {
    return this.waiters.length;
  }

  wakeAll(): void {
    if (this.waiters.length === 0) return;
    const woken = this.waiters;
    this.waiters = [];
    for (const w of woken) w();
  }

  clear(): void {
    this.waiters = [];
  }
}
