// The spawn protocol's commands (impl/lib/spawn-command.ts) and qmail-lspawn's report rule
// (spec/spawn.ts localReport, truncateReport).
// Replay a failing property: SEED=<n> npx vitest run test/lib/spawn-command.test.ts

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCommand, CommandReader, splitRecipient, type SpawnCommand } from '../../impl/lib/spawn-command.ts';
import { letterOfExit, localReport, spawnReports, truncateReport, truncReportKeepBytes, truncReportSuffix } from '../../spec/spawn.ts';
import { qlxReports } from '../../spec/users.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/lib/spawn-command.test.ts';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function cmd(delnum: number, messid: string, recipient = 'u@h', sender = 's@h'): SpawnCommand {
  return { delnum, messid: enc(messid), sender: enc(sender), recipient: enc(recipient), tooLong: false };
}

describe('CommandReader', () => {
  it('parses slot, messid, sender, recipient; a slot byte may be 0 or NUL-like', () => {
    const r = new CommandReader(100);
    const bytes = Uint8Array.from([0, ...enc('1/2\0a@b\0c@d\0'), 7, ...enc('3/4\0\0e@f\0')]);
    const got = r.push(bytes).map((c) => [c.delnum, dec(c.messid), dec(c.sender), dec(c.recipient)]);
    expect(got).toEqual([[0, '1/2', 'a@b', 'c@d'], [7, '3/4', '', 'e@f']]);
    expect(r.partial).toBe(false);
  });

  it('gives the same commands however the stream is cut', async () => {
    const field = fc.uint8Array({ maxLength: 20 }).map((b) => b.map((x) => x || 1));
    const command = fc.tuple(fc.integer({ min: 0, max: 255 }), field, field, field);
    await checkProperty(
      file,
      fc.property(fc.array(command, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 20 }), (cmds, points) => {
        const stream = Uint8Array.from(cmds.flatMap(([d, a, b, c]) => [d, ...a, 0, ...b, 0, ...c, 0]));
        const r = new CommandReader(1000);
        const cuts = [...new Set(points.map((p) => p % (stream.length + 1)))].sort((x, y) => x - y);
        let prev = 0;
        const got: SpawnCommand[] = [];
        for (const p of [...cuts, stream.length]) {
          got.push(...r.push(stream.subarray(prev, p)));
          prev = p;
        }
        expect(got.map((c) => [c.delnum, [...c.messid], [...c.sender], [...c.recipient]])).toEqual(cmds.map(([d, a, b, c]) => [d, [...a], [...b], [...c]]));
      }),
    );
  });

  it('bounds a long command: keeps the bound, marks it, and resynchronises at its third NUL', () => {
    const r = new CommandReader(10);
    const got = r.push(Uint8Array.from([1, ...enc('12345\0'), ...enc('x'.repeat(50)), 0, ...enc('u@h\0'), 2, ...enc('9\0s\0r@h\0')]));
    expect(got.map((c) => [c.delnum, c.tooLong, c.sender.length])).toEqual([[1, true, 5], [2, false, 1]]);
  });
});

describe('checkCommand', () => {
  const free = () => false;
  it('follows spawn.c order and texts', () => {
    expect(checkCommand({ ...cmd(1, '1'), tooLong: true }, free)).toBe(spawnReports.noMem);
    expect(checkCommand(cmd(120, 'x'), free)).toBe(spawnReports.delnumTooBig);
    expect(checkCommand(cmd(3, 'x'), () => true)).toBe(spawnReports.delnumInUse);
    expect(checkCommand(cmd(3, `${'1'.repeat(200)}x`), free)).toBe(spawnReports.messidNonnumerics);
    expect(checkCommand(cmd(3, '/12'), free)).toBe(spawnReports.messidNonnumerics);
    expect(checkCommand(cmd(3, '1'.repeat(101)), free)).toBe(spawnReports.messidTooLong);
    expect(checkCommand(cmd(3, '1'.repeat(100)), free)).toBeNull();
    expect(checkCommand(cmd(3, ''), free)).toBe(spawnReports.messidTooShort);
    expect(checkCommand(cmd(3, '1/2', 'nohost'), free)).toBe(spawnReports.noHost);
    expect(checkCommand(cmd(3, '1//2/', '@'), free)).toBeNull();
  });

  it('splits the recipient at its last @', () => {
    const { local, domain } = splitRecipient(enc('a@b@c.example'));
    expect([dec(local), dec(domain)]).toEqual(['a@b', 'c.example']);
  });
});

describe('the report rule', () => {
  it('maps exit codes to letters', () => {
    expect([0, 111, 71, 74, 75, 100, 1, 101, 255].map(letterOfExit).join('')).toBe('KZZZZDDDD');
  });

  it('replaces the output for qlx codes, keeps it up to the first NUL otherwise', () => {
    expect(dec(localReport({ code: 117 }, enc('ignored')))).toBe(qlxReports[117]);
    expect(dec(localReport({ code: 0 }, enc('did 1+0+0\n\0junk')))).toBe('Kdid 1+0+0\n');
    expect(dec(localReport({ crashed: true }, enc('x')))).toBe('Zqmail-local crashed.\n');
    expect(dec(localReport({ code: 101 }, enc('bug')))).toBe('Dbug');
  });

  it('cuts output longer than 3000 bytes to 2966 + the suffix; 3000 stays whole', async () => {
    expect(truncReportKeepBytes).toBe(2966);
    expect(truncateReport(new Uint8Array(3000)).length).toBe(3000);
    await checkProperty(
      file,
      fc.property(fc.integer({ min: 3001, max: 9000 }), (n) => {
        const out = truncateReport(new Uint8Array(n).fill(0x79));
        expect(dec(out)).toBe(`${'y'.repeat(2966)}${truncReportSuffix}`);
      }),
    );
    // The cut comes before the NUL rule: a NUL past byte 2966 is cut away with the rest.
    const late = new Uint8Array(4000).fill(0x79);
    late[2980] = 0;
    expect(dec(localReport({ code: 0 }, late))).toBe(`K${'y'.repeat(2966)}${truncReportSuffix}`);
  });
});
