// Every crash state of a small simulated run, ALICE style: for each crash point (after event `at`)
// and each answer sequence the file system's crash may ask of its Chooser there (walked depth
// first), the world is built again from scratch (the kernel is deterministic: no snapshot), the
// power fails with exactly those answers, and `check` looks at what survived.

import type { Chooser } from '../../sim/fs-api.ts';
import type { Kernel } from '../../sim/kernel.ts';

/** Answers a prefix, then 0; records each question's n (for the depth-first walk). */
export class Walk {
  readonly ns: number[] = [];
  constructor(readonly answers: number[]) {}
  readonly choose: Chooser = (n) => {
    const j = this.ns.length;
    this.ns.push(n);
    if (j >= this.answers.length) this.answers.push(0);
    return this.answers[j] as number;
  };
  next(): number[] | null {
    const used = this.answers.slice(0, this.ns.length);
    for (let j = used.length - 1; j >= 0; j--) if ((used[j] as number) < (this.ns[j] as number) - 1) return [...used.slice(0, j), (used[j] as number) + 1];
    return null;
  }
}

/** Crash points from..to, every state at each; `check` gets the crashed world and a label that
 *  names the state ("at N choices a,b,c"). Returns how many states were checked. */
export async function walkCrashStates<W extends { k: Kernel }>(
  from: number, to: number, build: () => Promise<W>, check: (w: W, label: string) => void,
): Promise<number> {
  let states = 0;
  for (let at = from; at <= to; at++) {
    for (let answers: number[] | null = []; answers !== null; ) {
      const w = await build();
      await w.k.run({ maxEvents: at });
      const walk: Walk = new Walk(answers);
      w.k.powerLoss(walk.choose);
      states++;
      check(w, `at ${at} choices ${walk.answers.join(',')}`);
      answers = walk.next();
    }
  }
  return states;
}
