// HostRandom: the kernel's CSPRNG through node:crypto. Small requests (a maildir name's 8 bytes,
// one per delivery) are cut from a pool filled 4 KiB at a time: one randomBytes call each cost
// more than the rest of the name. Every byte is handed out once, as a copy.

import { randomBytes, randomFillSync } from 'node:crypto';
import type { Random } from '../types.ts';

const poolBytes = 4096;

export class HostRandom implements Random {
  private pool = new Uint8Array(0);
  private used = 0;

  u32(): number {
    const b = this.bytes(4);
    return ((b[0] as number) | ((b[1] as number) << 8) | ((b[2] as number) << 16) | ((b[3] as number) << 24)) >>> 0;
  }

  bytes(n: number): Uint8Array {
    if (n > poolBytes / 4) return new Uint8Array(randomBytes(n));
    if (this.used + n > this.pool.length) {
      this.pool = randomFillSync(new Uint8Array(poolBytes));
      this.used = 0;
    }
    const out = this.pool.slice(this.used, this.used + n);
    this.used += n;
    return out;
  }
}
