// npm run build: one executable CommonJS bundle per program.
// Usage: tsx scripts/build.ts [outdir]     (default: dist; tests build into a directory of their own)
//
//   impl/bin/<program>.ts  ->  dist/bin/<program>      (#!/usr/bin/env node, 0755, + <program>.map;
//                                                       the daemons of spec/spawn.ts daemonPrograms
//                                                       with `env -S node FLAGS`, a smaller heap)
//   impl/queue/setuid/qmail-queue.c  ->  dist/setuid/qmail-queue.c   (compiled by qmail-setup)
//   dist/package.json {"type": "commonjs"}: the repository's package.json says "module", and
//   Node would load an extensionless file below it as ESM (qmail-setup writes the same file into
//   an installation's home for the same reason).
//
// CJS, not ESM: an extensionless file outside a "type": "module" package loads as CommonJS, and a
// single CJS file is what Node 20's start-up aids (code cache, snapshot) take. Everything, pino
// included, is bundled: nothing is resolved from node_modules or transpiled (tsx) at run time.
//
// Entry points end with `await runMain(main, code)`; CJS has no top-level await, so the build
// turns that one statement into `void runMain(main, code)`. runMain never returns (it ends the
// process), so nothing can observe the difference; any other top-level await fails the build.

import * as esbuild from 'esbuild';
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonNodeFlags, daemonPrograms } from '../spec/spawn.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const binSrc = join(root, 'impl/bin');
const outRoot = resolve(process.argv[2] ?? join(root, 'dist'));
const distBin = join(outRoot, 'bin');
const setuidSrc = join(root, 'impl/queue/setuid/qmail-queue.c');
const distSetuid = join(outRoot, 'setuid');
const notPrograms = new Set(['run.ts']);

/** Makes every extensionless bundle below it load as CommonJS. Same bytes as impl/setup/home.ts. */
const commonjsPackage = '{ "type": "commonjs" }\n';

const entryAwait = /^await (runMain\(.*\));[ \t]*$/m;

/** esbuild plugin: the entry's `await runMain(...)` becomes `void runMain(...)` (see above). */
const entryPoint: esbuild.Plugin = {
  name: 'entry-point-await',
  setup(build) {
    build.onLoad({ filter: /[\\/]impl[\\/]bin[\\/][^\\/]+\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      return { contents: source.replace(entryAwait, 'void $1;'), loader: 'ts' };
    });
  },
};

async function programs(): Promise<string[]> {
  const names = await readdir(binSrc);
  return names.filter((n) => n.endsWith('.ts') && !notPrograms.has(n)).map((n) => n.slice(0, -'.ts'.length)).sort();
}

async function bundle(program: string): Promise<void> {
  const outfile = join(distBin, program);
  await esbuild.build({
    entryPoints: [join(binSrc, `${program}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: false,
    sourcemap: 'linked',
    // env -S (GNU coreutils 8.30, the BSDs) splits the flags off: a #! line carries one argument.
    banner: { js: daemonPrograms.includes(program) ? `#!/usr/bin/env -S node ${daemonNodeFlags}` : '#!/usr/bin/env node' },
    plugins: [entryPoint],
    logLevel: 'warning',
  });
  await chmod(outfile, 0o755);
}

async function main(): Promise<void> {
  const started = performance.now();
  // Only what the build owns is removed, whatever outdir names.
  await rm(distBin, { recursive: true, force: true });
  await rm(distSetuid, { recursive: true, force: true });
  await mkdir(distBin, { recursive: true });
  await mkdir(distSetuid, { recursive: true });
  const names = await programs();
  await Promise.all(names.map(bundle));
  await copyFile(setuidSrc, join(distSetuid, 'qmail-queue.c'));
  await writeFile(join(outRoot, 'package.json'), commonjsPackage);
  const ms = Math.round(performance.now() - started);
  process.stdout.write(`build: ${names.length} programs in ${distBin} (${ms} ms): ${names.join(' ')}\n`);
}

await main();
