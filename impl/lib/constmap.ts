// qmail's constmap over control-file lines (nq:constmap.c), for locals, percenthack and
// virtualdomains: keys compare case-insensitively (ASCII letters only) with exact length; with
// `colon` each line is key:value (text before the first ':') and lines without ':' are ignored; of
// two equal keys the LATER line wins (constmap chains new entries in front). Strings are one
// character per byte (impl/lib/latin1.ts). Pure.

export function lowerAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export class ConstMap {
  private readonly map = new Map<string, string>();

  constructor(lines: readonly string[], colon: boolean) {
    for (const line of lines) {
      if (!colon) {
        this.map.set(lowerAscii(line), '');
        continue;
      }
      const i = line.indexOf(':');
      if (i < 0) continue;
      this.map.set(lowerAscii(line.slice(0, i)), line.slice(i + 1));
    }
  }

  /** The value for key (case-insensitive), '' for a key without one, undefined when absent. */
  get(key: string): string | undefined {
    return this.map.get(lowerAscii(key));
  }

  has(key: string): boolean {
    return this.map.has(lowerAscii(key));
  }

  get size(): number {
    return this.map.size;
  }
}
