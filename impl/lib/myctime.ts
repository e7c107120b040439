// qmail's myctime(): "Www Mmm DD HH:MM:SS YYYY\n" in UTC, for mbox From_ lines (notqmail myctime.c).

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Pure: formats whole seconds since the epoch (no clock read here). */
export function myctime(epochSec: number): string {
  const d = new Date(Math.floor(epochSec) * 1000);
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ${time} ${d.getUTCFullYear()}\n`;
}
