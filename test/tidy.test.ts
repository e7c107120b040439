// House rule: nothing in impl/ (outside impl/sys/host and impl/bin) or in sim/ (outside the kernel)
// reads the real clock, randomness, environment, process or file system. Everything goes through sys.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

const banned: { name: string; re: RegExp }[] = [
  { name: 'node: import', re: /from\s+['"](node:)?(fs|fs\/promises|child_process|net|dns|os|timers|worker_threads|crypto|path|process|dgram|http|https|tls|cluster|perf_hooks|util|v8|vm)['"]/ },
  { name: 'dynamic node: import', re: /import\(\s*['"]node:/ },
  { name: 'require', re: /\brequire\(/ },
  { name: 'Date.now', re: /\bDate\.now\(/ },
  { name: 'new Date()', re: /new Date\(\s*\)/ },
  { name: 'Math.random', re: /\bMath\.random\(/ },
  { name: 'timers', re: /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\(/ },
  { name: 'process', re: /\bprocess\.[a-zA-Z]/ },
  { name: 'console', re: /\bconsole\./ },
  { name: 'performance', re: /\bperformance\.now\(/ },
];

const allowed = [/^impl\/sys\/host\//, /^impl\/bin\//, /^sim\/kernel(\.ts|\/)/];

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* tsFiles(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

/** Strips comments so that prose about Date.now() in a comment is not a violation. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('tidy: ambient IO only behind Sys', () => {
  const files = ['impl', 'sim'].flatMap((d) => [...tsFiles(join(root, d))]).map((f) => relative(root, f));
  it('finds the sources', () => expect(files.length).toBeGreaterThan(5));
  for (const file of files.filter((f) => !allowed.some((a) => a.test(f)))) {
    it(file, () => {
      const lines = code(readFileSync(join(root, file), 'utf8')).split('\n');
      const hits = lines.flatMap((line, i) => banned.filter((b) => b.re.test(line)).map((b) => `${file}:${i + 1}: ${b.name}: ${line.trim()}`));
      expect(hits).toEqual([]);
    });
  }
});

describe('tidy: dependencies flow spec <- impl <- sim', () => {
  const rules: { dir: string; forbid: RegExp }[] = [
    { dir: 'spec', forbid: /from\s+['"]\.\.\/(impl|sim|test|conformance)\// },
    { dir: 'impl', forbid: /from\s+['"](\.\.\/)+(sim|test|conformance|bench)\// },
  ];
  for (const { dir, forbid } of rules) {
    it(`${dir}/ imports nothing downstream`, () => {
      const bad = [...tsFiles(join(root, dir))].filter((f) => forbid.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
      expect(bad).toEqual([]);
    });
  }
});
