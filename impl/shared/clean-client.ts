// The client side of qmail-clean (../shared/spec/queue.md 4.4, spec/send.md 4): commands
// `foop/ID\0` and `todo/[S/]ID\0` on one fd, one reply byte each on the other, in order. Requests
// may be pipelined: qmail-clean answers them in the order sent, and commits a group of them with
// one directory fsync each. If qmail-clean goes away (EOF, EPIPE), every open and later request
// answers null and onDeath runs once.

import type { Fd, Sys } from '../sys/types.ts';
import type { CleanReply } from '../../spec/send.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { readTask, SerialWriter } from './fd-stream.ts';
import type { Wakeup } from './wakeup.ts';

export class CleanClient {
  private readonly waiting: Array<(r: CleanReply | null) => void> = [];
  private readonly out: SerialWriter;
  private dead = false;

  constructor(
    sys: Sys,
    writeFd: Fd,
    readFd: Fd,
    wake: Wakeup,
    private readonly onDeath: () => void,
  ) {
    this.out = new SerialWriter(sys, writeFd, () => this.die());
    wake.background(
      readTask(
        sys,
        readFd,
        (piece) => {
          for (const b of piece) this.waiting.shift()?.(String.fromCharCode(b) as CleanReply);
        },
        () => this.die(),
      ),
    );
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Sends one command (without its NUL) and resolves with the reply byte, or null when qmail-clean
   *  is gone. A reply byte that is not + ! x is passed on as it is: the caller treats it as failure. */
  request(command: string): Promise<CleanReply | null> {
    if (this.dead) return Promise.resolve(null);
    const reply = new Promise<CleanReply | null>((resolve) => this.waiting.push(resolve));
    void this.out.write(latin1Bytes(`${command}\0`));
    return reply;
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    for (const w of this.waiting.splice(0)) w(null);
    this.onDeath();
  }
}
