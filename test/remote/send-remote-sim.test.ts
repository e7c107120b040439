// End to end in the simulator: qmail-send with the real qmail-rspawn (qmail-remote in-process)
// delivering to a greylisting SMTP peer: deferred at birth, delivered on the retry, queue empty.

import { describe, expect, it } from 'vitest';
import { bootSend } from '../../sim/boot-send.ts';
import { checkLog, queueLeftovers } from '../../sim/checkers/send-state.ts';
import { sendWorld } from '../../sim/scenarios/send-world.ts';
import { startPeer } from './helpers.ts';

const minute = 60_000;
const hour = 60 * minute;

describe('qmail-send → qmail-rspawn → SMTP peer', () => {
  it('greylisted at birth, accepted on the retry; the log has both reports; nothing is left queued', async () => {
    const w = await sendWorld({ seed: 301, local: () => ({ report: 'Kdid 0+0+1\n', delayMs: 100 }), remote: 'defer' });
    w.k.net.setA('example.org', ['10.0.0.2']);
    const peer = startPeer(w, '10.0.0.2', { rcpt: (_a, _i, session) => (session === 0 ? '451 greylisted\r\n' : '250 ok\r\n') });
    const b = bootSend(w.k, w.inst, { lspawn: w.lspawn, rspawn: `${w.inst.home}/bin/qmail-rspawn` });
    await w.k.run({ until: () => b.log().includes('info: todo-proc: pid') || b.handle.status() !== null });
    w.submit({ sender: 'a@sim.example', recipients: ['bob@example.org'] });
    await w.k.run({ untilMs: w.k.nowMs + 30 * minute });
    const pid = b.pids()?.send;
    if (pid !== undefined && w.k.procs.has(pid)) w.k.kill(pid, 'SIGTERM');
    await w.k.run({ until: () => b.handle.status() !== null, untilMs: w.k.nowMs + 2 * hour });
    const log = b.log();
    expect(checkLog(log).violations).toEqual([]);
    expect(log).toContain('deferral: 10.0.0.2_does_not_like_recipient./Remote_host_said:_451_greylisted/Giving_up_on_10.0.0.2./');
    expect(log).toContain('success: 10.0.0.2_accepted_message./Remote_host_said:_250_ok/');
    expect(peer.messages).toHaveLength(1);
    expect(peer.messages[0]).toMatch(/^Received: .*\r\nX-Sim-Index: 0\r\n/s);
    expect(queueLeftovers(w.k.fs, w.inst.queue)).toEqual([]);
  });
});
