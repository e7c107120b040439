// qmail-nullqueue reads both inputs to their end and succeeds.

import { describe, expect, it } from 'vitest';
import { main } from '../../impl/nullqueue/main.ts';
import { runProgram } from '../support/host-program.ts';

describe('qmail-nullqueue', () => {
  it('reads the message and the envelope, stores nothing, exits 0', async () => {
    const enc = new TextEncoder();
    const r = await runProgram(main, { argv: ['qmail-nullqueue'], input: { 0: enc.encode('Subject: x\n\nbody\n'.repeat(10_000)), 1: enc.encode('Fa@b\0Tc@d\0\0') } });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});
