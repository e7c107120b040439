// Unique names for maildir deliveries. qmail uses `time.pid.host` and relies on one delivery per
// process; a delivery worker makes many, concurrently, so ours follow the later maildir spec's
// `<sec>.M<usec>P<pid>R<random>.<host>` (cr.yp.to/proto/maildir.html: M microseconds, P pid,
// R random), with 64 random bits; O_EXCL in tmp/ catches the rest. The host has `/` and `:`
// written as \057 and \072, as that spec asks (qmail writes them raw).

/** Pure: the host part, cut to `max` bytes (gethostname's buffer), then escaped. */
export function maildirHost(host: string, max: number): string {
  return host.slice(0, max).replace(/[/:]/g, (c) => (c === '/' ? '\\057' : '\\072'));
}

/** Two lowercase hex digits per byte value (a name per delivery; Array.from + join cost more). */
const hexByte = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Pure: the file name in tmp/ and new/. */
export function maildirName(nowMs: number, pid: number, random: Uint8Array, host: string): string {
  const us = Math.round(nowMs * 1000);
  const sec = Math.floor(us / 1_000_000);
  const usec = us - sec * 1_000_000;
  let hex = '';
  for (const b of random) hex += hexByte[b] as string;
  return `${sec}.M${usec}P${pid}R${hex}.${host}`;
}
