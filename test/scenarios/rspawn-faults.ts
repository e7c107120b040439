// A deliberately broken qmail-rspawn for the scenario tests (net-crash, mta-crash's peers world):
// the checkers must catch the mail it loses.

import type { Sys } from '../../impl/sys/types.ts';

/** The same Sys, but every "connection died. Possible duplicate!" report it writes to qmail-send on
 *  fd 1 says K instead of Z (same length): a qmail-rspawn that calls a reset after the dot a success. */
export function duplicateAsSuccess(sys: Sys): Sys {
  const marker = [...'ZConnected to '].map((c) => c.charCodeAt(0));
  const fs = new Proxy(sys.fs, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'write' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
      return (fd: number, buf: Uint8Array, offset = 0, length = buf.length - offset, position: number | null = null): Promise<number> => {
        if (fd === 1) {
          const text = String.fromCharCode(...buf.subarray(offset, offset + length));
          for (let i = text.indexOf('Possible duplicate!'); i >= 0; i = text.indexOf('Possible duplicate!', i + 1)) {
            const z = text.lastIndexOf(String.fromCharCode(...marker), i);
            if (z >= 0) buf[offset + z] = 0x4b; // K
          }
        }
        return (v as Sys['fs']['write']).call(target, fd, buf, offset, length, position);
      };
    },
  });
  return { ...sys, fs };
}
