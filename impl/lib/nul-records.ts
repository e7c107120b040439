// NUL-terminated records arriving in pieces (todo-proc's records, qmail-clean's commands): push()
// returns the records a piece completes, without their NUL. A record longer than the bound keeps
// its first maxBytes bytes (the rest up to its NUL is dropped), so a broken peer costs bounded
// memory. Pure.

export class NulRecords {
  private current: number[] = [];

  constructor(private readonly maxBytes: number) {}

  /** Bytes of a record begun but not ended. */
  get pending(): number {
    return this.current.length;
  }

  push(piece: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = 0;
    for (let nul = piece.indexOf(0); nul !== -1; nul = piece.indexOf(0, start)) {
      this.take(piece.subarray(start, nul));
      out.push(Uint8Array.from(this.current));
      this.current = [];
      start = nul + 1;
    }
    this.take(piece.subarray(start));
    return out;
  }

  private take(bytes: Uint8Array): void {
    const room = this.maxBytes - this.current.length;
    for (let i = 0; i < Math.min(room, bytes.length); i++) this.current.push(bytes[i] as number);
  }
}
