// What an inode holds besides our own bookkeeping: st_mode, owner, group, the symlink target and a
// regular file's bytes. memfs's Node keeps them (its buffer grows by doubling); this subclass adds
// the one thing SimFs needs that memfs lacks, and leaves out what SimFs never uses:
//
//   snapshot  fsync's durable image shares the live bytes: most files are written, synced and never
//             written again, and an appended mbox only adds bytes past the image's view, so a copy
//             is made only when a write would change what an image shows (thaw).
//   touch     memfs stamps every write, truncate and read with the host's clock and announces it
//             on a change bus. SimFs keeps virtual timestamps of its own (inode.ts) and listens to no
//             bus, so these are no-ops here: a simulated file operation reads no real clock. (memfs's
//             constructor still stamps a new node once; SimFs never reads those fields.)

import { Node } from '@jsonjoy.com/fs-core';
import { bufferFrom } from '@jsonjoy.com/fs-node-builtins/lib/internal/buffer.js';

type MemfsBuffer = Parameters<Node['write']>[0];

/** memfs's Node wants its Buffer class; this views the same bytes without copying. */
function asBuffer(bytes: Uint8Array): MemfsBuffer {
  return bufferFrom(bytes.buffer, bytes.byteOffset, bytes.length);
}

export class NodeData extends Node {
  /** buf[0, frozen) is also seen by a durable image (snapshot): copied before it changes. */
  private frozen = 0;

  constructor(mode: number, uid: number, gid: number) {
    super(0, mode, uid, gid);
  }

  override touch(): void {
    // Virtual timestamps are inode.ts's; nothing listens to memfs's change bus.
  }

  /** The file becomes a copy of bytes. */
  override setBuffer(bytes: Uint8Array): void {
    super.setBuffer(asBuffer(bytes));
    this.frozen = 0;
  }

  /** The bytes now, as a view that later writes leave alone. */
  snapshot(): Uint8Array {
    const size = this.getSize();
    if (size > this.frozen) this.frozen = size;
    return this.buf.subarray(0, size);
  }

  /** Writes bytes[off, off + len) at pos, zero-filling any hole before pos; returns len. */
  override write(bytes: Uint8Array, off = 0, len = bytes.length, pos = 0): number {
    if (off + len > bytes.length) len = bytes.length - off;
    if (len <= 0) return 0;
    // A write that outgrows the buffer makes memfs copy it into a new one: the image keeps the old.
    if (pos + len <= this.buf.length) this.thaw(Math.min(pos, this.getSize()));
    const was = this.buf;
    const n = super.write(asBuffer(bytes), off, len, pos);
    if (this.buf !== was) this.frozen = 0;
    return n;
  }

  /** Reads up to len bytes at pos into into[off, ...); returns how many. (memfs's read stamps
   *  atime with the host's clock.) */
  override read(into: Uint8Array, off = 0, len = into.byteLength, pos = 0): number {
    const size = this.getSize();
    if (pos >= size) return 0;
    const n = Math.min(len, into.length - off, size - pos);
    if (n <= 0) return 0;
    into.set(this.buf.subarray(pos, pos + n), off);
    return n;
  }

  /** Cuts or extends (with zeros) the file to len bytes. */
  override truncate(len = 0): void {
    if (len <= 0) {
      super.truncate(0);
      this.frozen = 0;
      return;
    }
    // Growing in place zero-fills bytes past the old end, which an image may view: copy first.
    if (len > this.getSize() && len <= this.buf.length) this.thaw(this.getSize());
    const was = this.buf;
    super.truncate(len);
    if (this.buf !== was) this.frozen = 0;
  }

  // (memfs's buffer is always exactly its capacity long: buf.length is that capacity.)

  /** Bytes from `from` on are about to change: a snapshot still viewing them keeps the old ones. */
  private thaw(from: number): void {
    if (from >= this.frozen) return;
    this.buf = bufferFrom(this.buf.subarray(0, this.buf.length));
    this.frozen = 0;
  }
}
