// qmail's quote() and quote2(): an address's local part RFC 821-quoted only when it must be
// (notqmail quote.c). Used for Return-Path lines (qmail-local) and bounce headers. Byte strings in,
// byte strings out (one character per byte).

/** Characters allowed unquoted (quote.c's ok[] table): printable ASCII except space and "(),:;<>@[\]. */
function okByte(c: number): boolean {
  if (c <= 0x20 || c >= 0x7f) return false;
  return !'"(),:;<>@[\\]'.includes(String.fromCharCode(c));
}

/** Pure: quote_need(). */
export function quoteNeeded(box: string): boolean {
  if (box.length === 0) return true;
  for (let i = 0; i < box.length; i++) if (!okByte(box.charCodeAt(i))) return true;
  return box.startsWith('.') || box.endsWith('.') || box.includes('..');
}

/** Pure: quote(): "box" with \ before CR, LF, " and \, when needed. */
export function quote(box: string): string {
  if (!quoteNeeded(box)) return box;
  return `"${box.replace(/[\r\n"\\]/g, (c) => `\\${c}`)}"`;
}

/** Pure: quote2(): the part before the last @ quoted as needed; "" stays "". */
export function quote2(addr: string): string {
  if (addr === '') return '';
  const at = addr.lastIndexOf('@');
  if (at < 0) return quote(addr);
  return quote(addr.slice(0, at)) + addr.slice(at);
}
