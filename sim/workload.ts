// Generated traffic: messages and envelopes drawn from a seed and an index, so that a checker can
// regenerate exactly what a client submitted without keeping it in memory.

import { Prng } from './prng.ts';
import type { Envelope } from '../impl/lib/envelope.ts';
import { concat } from '../impl/lib/envelope.ts';
import { addressBytesMax } from '../spec/limits.ts';

export interface GeneratedMessage {
  index: number;
  message: Uint8Array;
  envelope: Envelope;
}

const enc = new TextEncoder();
const alnum = 'abcdefghijklmnopqrstuvwxyz0123456789';
const alnumBytes = new TextEncoder().encode(alnum);

function word(rng: Prng, min: number, max: number): string {
  const n = min + rng.int(max - min + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += alnum[rng.int(alnum.length)];
  return s;
}

function address(rng: Prng): string {
  if (rng.chance(0.01)) {
    const domain = '@example.org';
    return 'x'.repeat(addressBytesMax - 1 - domain.length) + domain; // the longest address qmail takes
  }
  if (rng.chance(0.02)) return ''; // the null sender / an empty recipient: qmail-queue does not judge
  return `${word(rng, 1, 12)}@${word(rng, 2, 10)}.${rng.pick(['com', 'org', 'net', 'example'])}`;
}

/** Body sizes: mostly small, some large, a few with 8-bit and NUL bytes (copied untouched). */
function body(rng: Prng): Uint8Array {
  const roll = rng.float();
  const size = roll < 0.8 ? rng.int(4000) : roll < 0.97 ? 4000 + rng.int(60_000) : 64_000 + rng.int(200_000);
  const out = rng.bytes(size);
  if (rng.chance(0.1)) return out;
  // Text: letters and digits in lines of at most 77 bytes, ending with a newline.
  let col = 0;
  for (let i = 0; i < size; i++) {
    const b = out[i] as number;
    const lineEnd = i === size - 1 || col >= 76 || b < 4;
    out[i] = lineEnd ? 0x0a : (alnumBytes[b % alnumBytes.length] as number);
    col = lineEnd ? 0 : col + 1;
  }
  return out;
}

export function generateMessage(seed: number, index: number): GeneratedMessage {
  const rng = new Prng(seed, `message:${index}`);
  const sender = address(rng);
  const recipients = Array.from({ length: 1 + rng.int(rng.chance(0.05) ? 50 : 4) }, () => address(rng));
  const head = enc.encode(`X-Sim-Index: ${index}\nFrom: <${sender}>\nSubject: ${word(rng, 1, 30)}\n\n`);
  return {
    index,
    message: concat([head, body(rng)]),
    envelope: { sender: enc.encode(sender), recipients: recipients.map((r) => enc.encode(r)) },
  };
}

/** The index a generated message carries in its first header line, or null. */
export function indexOf(body: Uint8Array): number | null {
  const m = /^X-Sim-Index: ([0-9]+)\n/.exec(new TextDecoder().decode(body.subarray(0, 40)));
  return m === null ? null : Number(m[1]);
}
