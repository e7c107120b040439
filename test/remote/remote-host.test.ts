// qmail-remote's core on the real host Sys: one message out to a tiny loopback SMTP peer written
// with node:net (no smtp-server dependency), routed there by an smtproutes catch-all with a port.

import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSys } from '../../impl/sys/host/index.ts';
import { parseRoutes } from '../../impl/remote/smtproutes.ts';
import { qmailRemote } from '../../impl/remote/remote.ts';

let server: Server;
let port = 0;
let transcript = '';

beforeAll(async () => {
  server = createServer((sock) => {
    let buf = '';
    let inData = false;
    sock.setEncoding('latin1');
    sock.write('220 loopback ESMTP\r\n');
    sock.on('data', (d: string) => {
      transcript += d;
      buf += d;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buf = buf.slice(end + 5);
          inData = false;
          sock.write('250 2.0.0 queued as 42\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line.startsWith('DATA')) {
          inData = true;
          sock.write('354 go\r\n');
        } else if (line.startsWith('QUIT')) sock.end('221 bye\r\n');
        else if (line.startsWith('RCPT TO:<nobody')) sock.write('550 5.1.1 unknown\r\n');
        else sock.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  port = typeof a === 'object' && a !== null ? a.port : 0;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('qmail-remote on the host', () => {
  it('sends one message over loopback and reports r, h, K', async () => {
    const sys = await hostSys();
    const body = new TextEncoder().encode('Subject: t\n\n.x\nend\n');
    const message = {
      read: async (buf: Uint8Array, position: number) => {
        const part = body.subarray(position, position + buf.length);
        buf.set(part);
        return part.length;
      },
    };
    const cfg = { helohost: 'host.test', timeoutConnectMs: 5000, timeoutRemoteMs: 5000, routes: parseRoutes([`:127.0.0.1:${port}`]), tcptoPath: null };
    const out = await qmailRemote(sys, cfg, { host: 'example.org', sender: 'me@host.test', recips: ['you@example.org', 'nobody@example.org'], message });
    expect(String.fromCharCode(...out)).toBe(
      'r\0h127.0.0.1 does not like recipient.\nRemote host said: 550 5.1.1 unknown\n\0K127.0.0.1 accepted message.\nRemote host said: 250 2.0.0 queued as 42\n\0',
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(transcript).toContain('HELO host.test\r\nMAIL FROM:<me@host.test>\r\nRCPT TO:<you@example.org>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\nSubject: t\r\n\r\n..x\r\nend\r\n.\r\nQUIT\r\n');
  });
});
