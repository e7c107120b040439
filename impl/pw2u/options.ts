// qmail-pw2u's command line: qmail-pw2u [-/ohHuUC] [-c char], parsed as DJB's sgetopt does
// (notqmail subgetopt.c): flags may be bundled, -c takes the rest of its word or the next word,
// "--" or a word not starting with '-' (or a lone "-") ends the options; the rest is ignored.

export interface Pw2uOptions {
  /** -/: dash "-/" (home/.qmail-/ext) instead of "-". */
  dashColon: '-:' | '-/:';
  /** 2 (-o, default): skip when home is missing or not owned; 1 (-h): stop when home is
   *  missing, skip when not owned; 0 (-H): no home checks. */
  homeStrategy: 0 | 1 | 2;
  /** -U (default): skip users with uppercase letters; -u allows them. */
  noUpper: boolean;
  /** The user-extension delimiter byte (-c: first byte of its argument), or null (-C, or -c ''). */
  breakByte: number | null;
}

export type Pw2uArgs = { opts: Pw2uOptions } | { problem: string };

const encoder = new TextEncoder();

/** argv including argv[0] (for sgetopt's "<program>: illegal option -- x" message). */
export function parsePw2uArgs(argv: readonly string[], breakDefault: string): Pw2uArgs {
  const opts: Pw2uOptions = { dashColon: '-:', homeStrategy: 2, noUpper: true, breakByte: encoder.encode(breakDefault)[0] ?? null };
  const prog = (argv[0] ?? '').replace(/^.*\//, '');
  let ind = 1;
  let pos = 0;
  for (;;) {
    let word = argv[ind];
    if (word === undefined) return { opts };
    if (pos > 0 && pos >= word.length) {
      ind++;
      pos = 0;
      word = argv[ind];
      if (word === undefined) return { opts };
    }
    if (pos === 0) {
      if (word[0] !== '-') return { opts };
      if (word.length === 1 || word[1] === '-') return { opts };
      pos = 1;
    }
    const c = word[pos++] as string;
    if (c === 'c') {
      let arg: string | undefined = word.slice(pos);
      ind++;
      pos = 0;
      if (arg === '') {
        arg = argv[ind++];
        if (arg === undefined) return { problem: `${prog}: option requires an argument -- c\n` };
      }
      opts.breakByte = encoder.encode(arg)[0] ?? null;
      continue;
    }
    if (c === '/') opts.dashColon = '-/:';
    else if (c === 'o') opts.homeStrategy = 2;
    else if (c === 'h') opts.homeStrategy = 1;
    else if (c === 'H') opts.homeStrategy = 0;
    else if (c === 'u') opts.noUpper = false;
    else if (c === 'U') opts.noUpper = true;
    else if (c === 'C') opts.breakByte = null;
    else return { problem: `${prog}: illegal option -- ${c}\n` };
  }
}
