// qmail's date822fmt: "<mday> <Mon> <yyyy> <HH>:<MM>:<SS> -0000", always UTC, mday unpadded.
// Used in the Received line (qmail-queue) and bounce Date: headers (spec/queue.md 2.3).

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Pure: formats epoch milliseconds (no clock read here). */
export function date822(epochMs: number): string {
  const d = new Date(Math.floor(epochMs / 1000) * 1000);
  const mon = months[d.getUTCMonth()];
  return `${d.getUTCDate()} ${mon} ${d.getUTCFullYear()} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} -0000`;
}
