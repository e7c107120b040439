// HostRandom: the kernel's CSPRNG through node:crypto.

import { randomBytes } from 'node:crypto';
import type { Random } from '../types.ts';

export class HostRandom implements Random {
  u32(): number {
    return randomBytes(4).readUInt32LE(0);
  }

  bytes(n: number): Uint8Array {
    return new Uint8Array(randomBytes(n));
  }
}
