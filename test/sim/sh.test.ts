// The simulator's tiny /bin/sh (sim/sh.ts): word splitting and quoting of one simple command, and
// refusal of everything a real shell would expand or redirect.

import { describe, expect, it } from 'vitest';
import { shellWords } from '../../sim/sh.ts';

describe('sim sh words', () => {
  it('splits at blanks and honours quotes and backslashes', () => {
    expect(shellWords('  prog a\tb  ')).toEqual({ words: ['prog', 'a', 'b'] });
    expect(shellWords(`prog 'a b' "c \\"d\\" \\$e" f\\ g ''`)).toEqual({ words: ['prog', 'a b', 'c "d" $e', 'f g', ''] });
    expect(shellWords('')).toEqual({ words: [] });
  });

  it('refuses expansion, redirection, pipes and lists', () => {
    for (const cmd of ['a; b', 'a | b', 'a > f', 'a < f', 'echo $HOME', 'echo "$HOME"', 'echo `x`', 'a & b', "a 'b"]) {
      expect(shellWords(cmd), cmd).toHaveProperty('error');
    }
  });
});
