// A POSIX-style getopt (djb sgetopt as qmail uses it): options until the first non-option or `--`;
// `-abc` bundles flags; an option letter followed by ':' in the spec takes an argument, attached
// (`-fme`) or the next word (`-f me`). Pure.

export interface GetoptResult {
  opts: { opt: string; arg: string | null }[];
  rest: string[];
  /** The first unknown option letter, or one missing its argument; null when all parsed. */
  bad: string | null;
}

export function getopt(argv: readonly string[], spec: string): GetoptResult {
  const opts: GetoptResult['opts'] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string;
      const at = spec.indexOf(c);
      if (c === ':' || at < 0) return { opts, rest: argv.slice(i), bad: c };
      if (spec[at + 1] !== ':') {
        opts.push({ opt: c, arg: null });
        continue;
      }
      let arg: string | undefined = a.slice(j + 1);
      if (arg === '') arg = argv[++i];
      if (arg === undefined) return { opts, rest: [], bad: c };
      opts.push({ opt: c, arg });
      break;
    }
  }
  return { opts, rest: argv.slice(i), bad: null };
}
