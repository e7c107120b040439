// The run scripts in etc/ (docs/running.md): executable, valid sh, and saying what the docs say:
// rc starts qmail-start from an empty environment; no service limits address space (Node aborts
// below about 1 GB: pitfall 8); the log services run as qmaill.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const etc = join(root, 'etc');

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}

const scripts = [...files(etc)];
const code = (path: string): string => readFileSync(path, 'utf8').replace(/^#.*$/gm, '');

describe('etc/ run scripts', () => {
  it('are there: rc, qmail-send with its log for daemontools and runit, qmail-smtpd for daemontools', () => {
    expect(scripts.map((p) => relative(etc, p)).sort()).toEqual([
      'daemontools/qmail-send/log/run', 'daemontools/qmail-send/run', 'daemontools/qmail-smtpd/log/run', 'daemontools/qmail-smtpd/run',
      'rc', 'runit/qmail-send/log/run', 'runit/qmail-send/run',
    ]);
  });

  for (const path of scripts) {
    it(`${relative(root, path)}: executable, sh -n clean, no address-space limit`, () => {
      expect(statSync(path).mode & 0o755).toBe(0o755);
      expect(() => execFileSync('sh', ['-n', path])).not.toThrow();
      expect(code(path)).not.toMatch(/softlimit\s[^\n]*-[am]\b|chpst\s[^\n]*-m\b/);
    });
  }

  it('rc: exec env - PATH=... qmail-start ./Maildir/', () => {
    expect(code(join(etc, 'rc')).trim()).toBe('exec env - PATH="/var/qmail/bin:$PATH" qmail-start ./Maildir/');
  });

  it('the services exec rc; the log services run as qmaill', () => {
    for (const sv of ['daemontools', 'runit']) {
      expect(code(join(etc, sv, 'qmail-send/run')).trim()).toBe('exec /var/qmail/rc');
      expect(code(join(etc, sv, 'qmail-send/log/run'))).toMatch(/qmaill/);
    }
    expect(code(join(etc, 'daemontools/qmail-smtpd/log/run'))).toMatch(/qmaill/);
  });

  it('qmail-smtpd runs as the listener started as root (it drops to qmaild itself); tcpserver as qmaild:nofiles is the documented alternative', () => {
    const run = readFileSync(join(etc, 'daemontools/qmail-smtpd/run'), 'utf8');
    expect(code(join(etc, 'daemontools/qmail-smtpd/run'))).toMatch(/^exec \/var\/qmail\/bin\/qmail-smtpd --listen 0\.0\.0\.0:25 2>&1$/m);
    expect(code(join(etc, 'daemontools/qmail-smtpd/run'))).not.toMatch(/setuidgid/);
    expect(run).toMatch(/# exec tcpserver [^\n]*-u "\$QMAILDUID" -g "\$NOFILESGID"[\s\S]*bin\/qmail-smtpd/);
  });
});
