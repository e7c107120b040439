// qmail-smtpd --listen in the simulator: one qmail-smtpd process (as qmaild) accepts connections
// with sys.net and runs their sessions in-process; several clients at once each queue a message
// through the real qmail-queue. The per-connection tcp-environ shows in the Received line.

import { describe, expect, it } from 'vitest';
import { writeAll } from '../../impl/shared/fdio.ts';
import { parseListen } from '../../impl/smtpd/listen.ts';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds } from '../../sim/install.ts';
import { addProgram, dec, enc, smtpReply } from '../sim/helpers.ts';

const clients = 5;

describe('qmail-smtpd --listen (simulator)', () => {
  it('parses HOST:PORT', () => {
    expect(parseListen('127.0.0.1:25')).toEqual({ host: '127.0.0.1', port: 25 });
    expect(parseListen('[::1]:2525')).toEqual({ host: '::1', port: 2525 });
    expect(parseListen('nohost')).toBeNull();
    expect(parseListen('h:99999')).toBeNull();
    expect(parseListen('h:2x')).toBeNull();
  });

  it(`${clients} concurrent clients each queue a message through one listening process`, async () => {
    const k = new Kernel({ seed: 11 });
    const inst = await installQmail(k);
    const daemon = k.spawn(`${inst.home}/bin/qmail-smtpd`, ['qmail-smtpd', '--listen', '0.0.0.0:2525'], {
      env: { QMAILHOME: inst.home },
      uid: simIds.users.qmaild,
      gid: simIds.groups.nofiles,
    });
    const transcripts: string[][] = [];
    const client = addProgram(k, 'smtp-client', async (sys) => {
      await sys.clock.sleep(10); // let the daemon listen
      const n = Number(sys.proc.self.argv[1]);
      const c = await sys.net.connect({ host: '127.0.0.1', port: 2525 }, 5_000);
      const t: string[] = [await smtpReply(sys, c.fd)];
      for (const cmd of ['HELO c\r\n', `MAIL FROM:<s${n}@x>\r\n`, `RCPT TO:<r${n}@y>\r\n`, 'DATA\r\n', `Subject: ${n}\r\n\r\nbody ${n}\r\n.\r\n`, 'QUIT\r\n']) {
        await writeAll(sys, c.fd, enc(cmd));
        t.push(await smtpReply(sys, c.fd));
      }
      await sys.fs.close(c.fd);
      transcripts[n] = t;
      return 0;
    });
    const hs = Array.from({ length: clients }, (_, i) => k.spawn(client, ['smtp-client', String(i)], {}));
    await k.run({ until: () => hs.every((h) => h.status() !== null) });
    for (const h of hs) expect((await h.wait()).code).toBe(0);
    expect(daemon.status()).toBeNull(); // still serving
    for (const t of transcripts) {
      expect(t.slice(0, 5)).toEqual(['220 sim.example ESMTP\r\n', '250 sim.example\r\n', '250 ok\r\n', '250 ok\r\n', '354 go ahead\r\n']);
      expect(t[5]).toMatch(/^250 ok [0-9]+ qp [0-9]+\r\n$/);
      expect(t[6]).toBe('221 sim.example\r\n');
    }
    const dirs = Array.from({ length: inst.queue.split }, (_, i) => `${inst.queue.dir}/mess/${i}`);
    const mess = dirs.flatMap((d) => (k.fs.peekDir(d) ?? []).map((f) => dec(k.fs.peekFile(`${d}/${f}`)!)));
    expect(mess).toHaveLength(clients);
    for (const m of mess) expect(m).toMatch(/\nReceived: from unknown \(HELO c\) \(127\.0\.0\.1\)\n {2}by 127\.0\.0\.1 with SMTP; [^\n]+\nSubject: [0-9]\n\nbody [0-9]\n$/);
  });
});
