// qsim run --html: the sampler changes nothing in the run, and the page is self-contained and
// loads in a real headless browser (Debian's chromium) without a console error, with every plot drawn.
//
// Reproduce: SEED=<seed> npx vitest run test/sim/html-report.test.ts

import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runQueueCrash, type QueueCrashOpts } from '../../sim/scenarios/queue-crash.ts';
import { RunSampler } from '../../sim/run-sampler.ts';
import { runHtml } from '../../sim/cli-html.ts';
import { runCli } from '../../sim/cli.ts';
import type { HostIo } from '../../sim/host-io.ts';

const seed = Number(process.env['SEED'] ?? 11);
const opts: QueueCrashOpts = { seed, messages: 80, clients: 8, crashes: 3, profile: 'posix', split: 7 };

function chromiumPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** The `d` attributes of the page's plot lines. */
function plotPaths(html: string): string[] {
  return [...html.matchAll(/<path class="line" d="([^"]*)"/g)].map((m) => m[1] as string);
}

describe('qsim run --html', () => {
  it('the sampler changes neither the results nor the trace hash', async () => {
    const plain = await runQueueCrash(opts);
    const sampler = new RunSampler();
    const watched = await runQueueCrash({ ...opts, sampler });
    expect(watched.traceHash).toBe(plain.traceHash);
    expect(watched.events).toBe(plain.events);
    expect(watched.counts).toEqual(plain.counts);
    expect(watched.violations).toEqual(plain.violations);
    expect(sampler.crashTimes.length).toBe(opts.crashes);
    expect(sampler.samples.length).toBeGreaterThan(10);
    const last = sampler.samples[sampler.samples.length - 1]!;
    expect(last.accepted).toBe(plain.counts.accepted);
    expect(last.crashes).toBe(opts.crashes);
  });

  it('bounds the number of samples by thinning', async () => {
    const sampler = new RunSampler(1, 8);
    await runQueueCrash({ ...opts, sampler });
    expect(sampler.samples.length).toBeLessThanOrEqual(8);
    expect(sampler.samples.length).toBeGreaterThanOrEqual(4);
  });

  it('writes a self-contained page with the summary and five plots', async () => {
    const sampler = new RunSampler();
    const r = await runQueueCrash({ ...opts, sampler });
    const html = runHtml(r, opts, sampler, 'test', 'replay <cmd>');
    expect(html).not.toMatch(/\b(src|href)=/);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain('replay &lt;cmd&gt;');
    expect(html).toContain(`<td>${r.traceHash}</td>`);
    const paths = plotPaths(html);
    expect(paths.length).toBe(5);
    for (const d of paths) expect(d.split(/[ML]/).filter((p) => p.trim() !== '').length).toBeGreaterThan(10);
    expect((html.match(/class="crash"/g) ?? []).length).toBe(5 * opts.crashes);
  });

  const chromium = chromiumPath();
  if (chromium === null) console.warn('html-report.test: chromium not installed (apt-get install -y chromium); skipping the browser test');
  it.skipIf(chromium === null)('loads in headless chromium with no console error and every plot drawn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qsim-html-'));
    try {
      const file = join(dir, 'report.html');
      const io: HostIo = {
        writeFile: (path, text) => writeFileSync(path, text),
        readFile: () => { throw new Error('not used'); },
        openOut: () => { throw new Error('not used'); },
        progress: () => undefined,
        cores: () => 1,
      };
      let out = '';
      const argv = ['run', '--seed', String(seed), '--messages', '80', '--clients', '8', '--crashes', '3', '--split', '7', '--html', file];
      const code = await runCli({ argv, out: (t) => { out += t; }, err: (t) => { out += t; }, wallMs: () => 0, freshSeed: () => 1, commit: 'test', io });
      expect(code, out).toBe(0);
      // Any uncaught error on the page lands in the DOM, and in chromium's console log.
      const page = readFileSync(file, 'utf8').replace('<head>', '<head><script>window.onerror = (m) => { document.documentElement.dataset.error = String(m); };</script>');
      writeFileSync(file, page);
      const r = spawnSync(chromium as string, [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`, '--enable-logging=stderr', '--v=0',
        '--dump-dom', `file://${file}`,
      ], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const dom = r.stdout;
      expect(r.stderr).not.toMatch(/Uncaught|ERROR:CONSOLE|CONSOLE\(\d+\).*[Ee]rror/);
      expect(dom).not.toContain('data-error');
      expect(dom).toContain('data-plots="5"');
      expect(dom).toContain('id="summary"');
      const paths = plotPaths(dom);
      expect(paths.length).toBe(5);
      for (const d of paths) expect(d.split(/[ML]/).filter((p) => p.trim() !== '').length).toBeGreaterThan(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
