// qsim replay, swarm, merge and run --check-determinism, through sim/cli.ts with an in-memory host
// (and once through scripts/qsim.ts, to cover the worker threads). Small message counts keep it quick.
//
// Replay a failure: SEED=<seed> npx vitest run test/scenarios/qsim-swarm.test.ts

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli, type CliHost } from '../../sim/cli.ts';
import { sameTraceTwice } from '../../sim/determinism.ts';
import type { HostIo } from '../../sim/host-io.ts';
import { Trace } from '../../sim/trace.ts';
import { buildReport, drawKnobs, runSwarmSeed, type SeedReport, type SwarmBounds, type SwarmReport } from '../../sim/swarm.ts';

const base = Number(process.env['SEED'] ?? 1);
const tiny = ['--messages-min', '5', '--messages-max', '25'];
const tinyBounds: SwarmBounds = { messagesMin: 5, messagesMax: 25 };
const tinyPlan = { bounds: tinyBounds, twice: false };

interface FakeHost extends CliHost {
  stdout: string[];
  stderr: string[];
  files: Map<string, string>;
}

function fakeHost(argv: string[], files = new Map<string, string>()): FakeHost {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let clock = 0;
  const io: HostIo = {
    readFile: (p) => {
      const t = files.get(p);
      if (t === undefined) throw new Error(`ENOENT ${p}`);
      return t;
    },
    writeFile: (p, t) => void files.set(p, t),
    openOut: (p) => {
      const parts: string[] = [];
      return { write: (t) => void parts.push(t), close: () => void files.set(p, parts.join('')) };
    },
    progress: () => undefined,
    cores: () => 2,
  };
  return {
    argv, stdout, stderr, files, io, commit: 'test',
    out: (t) => void stdout.push(t),
    err: (t) => void stderr.push(t),
    wallMs: () => (clock += 7),
    freshSeed: () => 99,
  };
}

async function cli(argv: string[], files?: Map<string, string>): Promise<{ code: number; out: string; err: string; files: Map<string, string> }> {
  const h = fakeHost(argv, files);
  const code = await runCli(h);
  return { code, out: h.stdout.join(''), err: h.stderr.join(''), files: h.files };
}

function hashIn(text: string): string {
  const m = /trace hash\s+([0-9a-f]{16})/.exec(text);
  if (m === null) throw new Error(`no trace hash in:\n${text}`);
  return m[1] as string;
}

/** A report without its wall times, which are the one thing that may differ between runs. */
function timeless(r: SwarmReport): unknown {
  return { ...r, summary: { ...r.summary, wallMs: 0 }, seeds: r.seeds.map((s) => ({ ...s, wallMs: 0 })) };
}

describe('qsim swarm', () => {
  it('draws each seed\'s knobs from the seed alone, within the bounds', () => {
    for (let seed = base; seed < base + 200; seed++) {
      const k = drawKnobs(seed, tinyBounds);
      expect(drawKnobs(seed, tinyBounds)).toEqual(k);
      expect(k.seed).toBe(seed);
      expect(k.messages).toBeGreaterThanOrEqual(5);
      expect(k.messages).toBeLessThanOrEqual(25);
      expect(k.clients).toBeGreaterThanOrEqual(1);
      expect(k.clients).toBeLessThanOrEqual(k.messages);
    }
    const seen = new Set(Array.from({ length: 200 }, (_, i) => JSON.stringify({ ...drawKnobs(base + i, tinyBounds), seed: 0 })));
    expect(seen.size).toBeGreaterThan(150);
  });

  it('writes a report whose knobs are the seeds\' own and whose replay commands reproduce them', async () => {
    const r = await cli(['swarm', '--seeds', `${base}..${base + 3}`, ...tiny, '--out', 'r.json']);
    expect(r.code, r.out + r.err).toBe(0);
    const report = JSON.parse(r.files.get('r.json') as string) as SwarmReport;
    expect(report.seeds.map((s) => s.seed)).toEqual([base, base + 1, base + 2, base + 3]);
    expect(report.summary).toMatchObject({ seeds: 4, passed: 4, failed: 0, first: base, last: base + 3, failing: [] });
    for (const s of report.seeds) {
      expect(s.knobs).toEqual(drawKnobs(s.seed, tinyBounds));
      expect(s.traceHash).toMatch(/^[0-9a-f]{16}$/);
      // The printed command, run as its argv, gives the same trace and counts.
      const argv = s.replay.split(' ').slice(3);
      expect(argv[0]).toBe('run');
      const again = await cli(argv);
      expect(again.code).toBe(0);
      expect(hashIn(again.out), s.replay).toBe(s.traceHash);
      expect(again.out).toContain(`accepted (qmail-queue exit 0)  ${s.counts?.accepted}`);
    }
  });

  it('merging two shards gives the report of the whole range', async () => {
    const whole = await cli(['swarm', '--seeds', `${base}..${base + 3}`, ...tiny, '--out', 'all.json']);
    const a = await cli(['swarm', '--seeds', `${base + 2}..${base + 3}`, ...tiny, '--out', 'a.json']);
    const b = await cli(['swarm', '--seeds', `${base}..${base + 2}`, ...tiny, '--out', 'b.json']);
    const files = new Map([['a.json', a.files.get('a.json') as string], ['b.json', b.files.get('b.json') as string]]);
    const m = await cli(['merge', 'a.json', 'b.json', '--out', 'm.json'], files);
    expect(m.code, m.err).toBe(0);
    const merged = JSON.parse(m.files.get('m.json') as string) as SwarmReport;
    const all = JSON.parse(whole.files.get('all.json') as string) as SwarmReport;
    expect(timeless(merged)).toEqual(timeless(all));
  });

  it('with --check-determinism runs each seed twice and finds the same hashes', async () => {
    const once = await cli(['swarm', '--seeds', `${base}..${base + 1}`, ...tiny, '--out', 'r.json']);
    const twice = await cli(['swarm', '--seeds', `${base}..${base + 1}`, ...tiny, '--check-determinism', '--out', 'r.json']);
    expect(twice.code, twice.out).toBe(0);
    const a = JSON.parse(once.files.get('r.json') as string) as SwarmReport;
    const b = JSON.parse(twice.files.get('r.json') as string) as SwarmReport;
    expect(b.seeds.map((s) => s.checkedTwice)).toEqual([true, true]);
    expect(b.seeds.map((s) => s.traceHash)).toEqual(a.seeds.map((s) => s.traceHash));
  });

  it('lists a failing seed with its replay command and exits 1', async () => {
    const good = await runSwarmSeed(base, tinyPlan, () => 0);
    const bad: SeedReport = { ...good, seed: base + 1, knobs: drawKnobs(base + 1, tinyBounds), violations: ['lost message 3'], replay: 'npx tsx scripts/qsim.ts run --seed x' };
    const files = new Map([['f.json', JSON.stringify(buildReport('c1', tinyBounds, [bad, good]))]]);
    const m = await cli(['merge', 'f.json'], files);
    expect(m.code).toBe(1);
    expect(m.out).toContain(`seed ${base + 1}: lost message 3\n    replay: npx tsx scripts/qsim.ts run --seed x`);
  });

  it('refuses to merge one seed with two hashes from one commit, or shards of other bounds', async () => {
    const good = await runSwarmSeed(base, tinyPlan, () => 0);
    const files = new Map([
      ['a.json', JSON.stringify(buildReport('c1', tinyBounds, [good]))],
      ['b.json', JSON.stringify(buildReport('c1', tinyBounds, [{ ...good, traceHash: '0123456789abcdef' }]))],
      ['c.json', JSON.stringify(buildReport('c1', { messagesMin: 1, messagesMax: 25 }, [good]))],
    ]);
    expect((await cli(['merge', 'a.json', 'b.json'], files)).err).toContain('nondeterminism');
    expect((await cli(['merge', 'a.json', 'c.json'], files)).code).toBe(2);
    expect((await cli(['swarm', '--seeds', '5..4'])).code).toBe(2);
  });
});

describe('qsim replay and run --check-determinism', () => {
  const flags = ['--seed', String(base + 10), '--messages', '20', '--clients', '4', '--crashes', '3', '--profile', 'posix', '--split', '7'];

  it('replay writes the full trace, syscalls included, and prints the hash run printed', async () => {
    const run = await cli(['run', ...flags]);
    const replay = await cli(['replay', ...flags, '--trace', 't.jsonl']);
    expect(replay.code, replay.out).toBe(0);
    expect(hashIn(replay.out)).toBe(hashIn(run.out));
    const lines = (replay.files.get('t.jsonl') as string).trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { t: number; pid: number; event: string });
    expect(events.every((e) => typeof e.t === 'number' && typeof e.pid === 'number' && /^[a-z]+\.[A-Za-z_.-]+$/.test(e.event))).toBe(true);
    expect(events.some((e) => e.event.startsWith('sys.'))).toBe(true);
    expect(events.some((e) => e.event === 'kernel.power_loss')).toBe(true);
    expect(replay.out).toContain(`trace lines  ${lines.length} in t.jsonl`);
    // The file is exactly what was hashed.
    expect(Trace.hashOf(lines)).toBe(hashIn(run.out));
  });

  it('replay without --trace writes JSON lines to stdout and the summary to stderr', async () => {
    const replay = await cli(['replay', ...flags]);
    expect(replay.out.split('\n')[0]).toMatch(/^\{"t":/);
    expect(hashIn(replay.err)).toBe(hashIn((await cli(['replay', ...flags, '--trace', 'x'])).out));
    expect((await cli(['replay', '--messages', '3'])).code).toBe(2);
  });

  it('run --check-determinism passes on a deterministic seed and fails on differing hashes', async () => {
    const r = await cli(['run', ...flags, '--check-determinism']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`determinism: the second run gave the same trace (hash ${hashIn(r.out)}`);
    const h = fakeHost([]);
    const opts = { seed: base + 10, messages: 20, clients: 4, crashes: 3, profile: 'posix' as const, split: 7 };
    expect(await sameTraceTwice(h, opts, { traceHash: 'ffffffffffffffff', events: 1 })).toBe(false);
    expect(h.stdout.join('')).toMatch(/NONDETERMINISM: seed \d+ gave two traces\n {2}first run {3}hash ffffffffffffffff, 1 events\n {2}second run {2}hash [0-9a-f]{16}/);
  });
});

describe('scripts/qsim.ts swarm on worker threads', () => {
  it('gives the same per-seed results as the in-process run, and merges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qsim-swarm-'));
    try {
      const run = promisify(execFile);
      const tsx = ['--import', 'tsx', 'scripts/qsim.ts'];
      const out = join(dir, 'w.json');
      const r = await run(process.execPath, [...tsx, 'swarm', '--seeds', `${base}..${base + 3}`, '--jobs', '2', ...tiny, '--out', out]);
      expect(r.stdout).toContain(`seeds ${base}..${base + 3}: 4 run, 4 passed, 0 failed`);
      const report = JSON.parse(readFileSync(out, 'utf8')) as SwarmReport;
      const inProcess = await cli(['swarm', '--seeds', `${base}..${base + 3}`, ...tiny, '--out', 'r.json']);
      const expected = JSON.parse(inProcess.files.get('r.json') as string) as SwarmReport;
      expect(timeless({ ...report, commit: 'test' })).toEqual(timeless(expected));
      const m = await run(process.execPath, [...tsx, 'merge', out, out, '--out', join(dir, 'm.json')]);
      expect(m.stdout).toContain('4 run, 4 passed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
