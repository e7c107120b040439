// Reading the message: every delivery instruction reads it from offset 0 (qmail's seek_begin(0) on
// fd 0), here by position through a MessageSource, so nothing shares or moves a file offset.

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import type { ByteSource } from '../queue/enqueue.ts';
import { localText } from '../../spec/local.ts';
import { temp } from './failure.ts';
import type { MessageSource } from './types.ts';

/** seek_begin(0): a source that cannot be read by position (fd 0 a pipe: ESPIPE, or not open:
 *  EBADF) fails as lseek would, "Unable to rewind message". Other errors show on the first read. */
export async function rewind(message: MessageSource): Promise<void> {
  try {
    await message.read(0, new Uint8Array(0));
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    if (e.code === 'ESPIPE' || e.code === 'EBADF') throw temp(localText.rewind);
  }
}

/** The message from offset 0 as a stream; read() throws the source's SysError. */
export function fromStart(message: MessageSource): ByteSource {
  let pos = 0;
  return {
    read: async (buf) => {
      const n = await message.read(pos, buf);
      pos += n;
      return n;
    },
  };
}

/** `head` then the stream. */
export function prefixed(head: Uint8Array, rest: ByteSource): ByteSource {
  let off = 0;
  return {
    read: async (buf) => {
      if (off < head.length) {
        const n = Math.min(buf.length, head.length - off);
        buf.set(head.subarray(off, off + n));
        off += n;
        return n;
      }
      return rest.read(buf);
    },
  };
}

/** A MessageSource over bytes in memory. */
export function bytesMessage(bytes: Uint8Array): MessageSource {
  return {
    size: bytes.length,
    bytes,
    read: async (pos, buf) => {
      const n = Math.max(0, Math.min(buf.length, bytes.length - pos));
      buf.set(bytes.subarray(pos, pos + n));
      return n;
    },
  };
}

/** The message on an fd (the standalone program's fd 0), read only by position: the file offset,
 *  shared with whoever gave us the fd, never moves. A pipe fails every read with ESPIPE. */
export async function fdMessage(sys: Sys, fd: Fd): Promise<MessageSource> {
  let size = 0;
  try {
    size = (await sys.fs.fstat(fd)).size;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
  }
  return { size, read: (pos, buf) => sys.fs.read(fd, buf, 0, buf.length, pos) };
}
