// A small port of qmail's token822 (notqmail token822.c) for what qmail-inject rewrites: an RFC 822
// address list is split into tokens, parsed into addresses and groups, each address is handed to a
// rewriting function, and the list is printed again, folded at commas (spec/inject.ts). Pure; strings
// are one character per byte.
//
// Differences from token822.c, on purpose: the output is rebuilt from a parsed list rather than from
// the rewritten token array, so spacing inside phrases is normalised to one space.

import { quote2 } from './quote.ts';
import { foldIndent, headerLineCharsMax } from '../../spec/inject.ts';

export type TokenKind = 'atom' | 'quoted' | 'comment' | 'literal' | 'special';
export interface Token {
  kind: TokenKind;
  /** atom: the atom; quoted: the unescaped content; comment, literal: as written; special: the char. */
  text: string;
}

export interface AddrItem {
  kind: 'addr';
  /** null: a bare addr-spec; otherwise the phrase before <...> (maybe empty). */
  phrase: Token[] | null;
  /** The address, quotes removed (local@domain, or '' for <>). */
  addr: string;
  comments: string[];
}
export interface GroupItem {
  kind: 'group';
  name: Token[];
  members: AddrItem[];
}
export type ListItem = AddrItem | GroupItem;

const specials = ',:;<>@.';
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** Pure: tokens of s, or null when a comment, quoted string or literal is not closed. */
export function tokenize(s: string): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (isSpace(c)) i++;
    else if (c === '(') {
      const end = commentEnd(s, i);
      if (end < 0) return null;
      out.push({ kind: 'comment', text: s.slice(i, end) });
      i = end;
    } else if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) text += s[j] === '\\' && j + 1 < s.length ? (s[++j] as string) : s[j];
      if (j >= s.length) return null;
      out.push({ kind: 'quoted', text });
      i = j + 1;
    } else if (c === '[') {
      let j = i + 1;
      for (; j < s.length && s[j] !== ']'; j++) if (s[j] === '\\') j++;
      if (j >= s.length) return null;
      out.push({ kind: 'literal', text: s.slice(i, j + 1) });
      i = j + 1;
    } else if (specials.includes(c)) {
      out.push({ kind: 'special', text: c });
      i++;
    } else {
      let j = i;
      while (j < s.length && !isSpace(s[j] as string) && !'()"[]'.includes(s[j] as string) && !specials.includes(s[j] as string)) j++;
      if (j === i) return null; // a stray ')' or ']'
      out.push({ kind: 'atom', text: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** Index just past the comment starting at i (nested, with \ escapes), or -1. */
function commentEnd(s: string, i: number): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '(') depth++;
    else if (s[j] === ')' && --depth === 0) return j + 1;
  }
  return -1;
}

const isSpecial = (t: Token | undefined, c: string): boolean => t !== undefined && t.kind === 'special' && t.text === c;

/** Pure: the address list, or null when it does not parse. */
export function parseAddrList(toks: readonly Token[]): ListItem[] | null {
  const items: ListItem[] = [];
  let pos = 0;
  while (pos < toks.length) {
    if (isSpecial(toks[pos], ',')) {
      pos++;
      continue;
    }
    const colon = groupColon(toks, pos);
    if (colon >= 0) {
      let end = colon + 1;
      while (end < toks.length && !isSpecial(toks[end], ';')) end++;
      if (end >= toks.length) return null; // a group must end with ;
      const members = parseMembers(toks.slice(colon + 1, end));
      if (members === null) return null;
      items.push({ kind: 'group', name: toks.slice(pos, colon), members });
      pos = end + 1;
      continue;
    }
    const end = segmentEnd(toks, pos);
    const seg = parseSegment(toks.slice(pos, end));
    if (seg === null) return null;
    items.push(...seg);
    pos = end;
  }
  return items;
}

/** Index of the comma ending the segment at pos (a comma inside <...> is a source route's). */
function segmentEnd(toks: readonly Token[], pos: number): number {
  let inAngle = false;
  let end = pos;
  for (; end < toks.length; end++) {
    if (isSpecial(toks[end], '<')) inAngle = true;
    else if (isSpecial(toks[end], '>')) inAngle = false;
    else if (!inAngle && isSpecial(toks[end], ',')) break;
  }
  return end;
}

/** Index of the ':' that makes toks[pos..] a group (before any < , ; @), else -1. */
function groupColon(toks: readonly Token[], pos: number): number {
  for (let j = pos; j < toks.length; j++) {
    const t = toks[j] as Token;
    if (t.kind !== 'special' || t.text === '.') continue;
    return t.text === ':' && j > pos ? j : -1;
  }
  return -1;
}

function parseMembers(toks: readonly Token[]): AddrItem[] | null {
  const out: AddrItem[] = [];
  let pos = 0;
  while (pos < toks.length) {
    const end = segmentEnd(toks, pos);
    const seg = parseSegment(toks.slice(pos, end));
    if (seg === null) return null;
    out.push(...seg);
    pos = end + 1;
  }
  return out;
}

/** One comma-separated piece: `phrase <route>` or one or more addr-specs. */
function parseSegment(toks: readonly Token[]): AddrItem[] | null {
  const lt = toks.findIndex((t) => isSpecial(t, '<'));
  if (lt < 0) return parseSpecs(toks);
  const gt = toks.findIndex((t, j) => j > lt && isSpecial(t, '>'));
  if (gt < 0) return null;
  const phrase = toks.slice(0, lt);
  if (phrase.some((t) => t.kind === 'special' && t.text !== '.')) return null;
  const after = toks.slice(gt + 1);
  if (after.some((t) => t.kind !== 'comment')) return null;
  let route = toks.slice(lt + 1, gt);
  if (isSpecial(route[0], '@')) {
    const c = route.findIndex((t) => isSpecial(t, ':'));
    if (c < 0) return null;
    route = route.slice(c + 1); // source routes are removed
  }
  const addr = joinAddr(route);
  if (addr === null) return null;
  return [{ kind: 'addr', phrase: phrase.filter((t) => t.kind !== 'comment'), addr, comments: [...phrase, ...after].filter((t) => t.kind === 'comment').map((t) => t.text) }];
}

/** addr-specs; two words with nothing between them are two addresses (`djb fred` → `djb, fred`). */
function parseSpecs(toks: readonly Token[]): AddrItem[] | null {
  const groups: { words: Token[]; comments: string[] }[] = [];
  let cur: { words: Token[]; comments: string[] } | null = null;
  let prevWord = false;
  for (const t of toks) {
    if (t.kind === 'comment') {
      (cur ?? (cur = { words: [], comments: [] })).comments.push(t.text);
      continue;
    }
    const word = t.kind !== 'special';
    if (word && prevWord) {
      groups.push(cur as { words: Token[]; comments: string[] });
      cur = null;
    }
    if (cur === null) cur = { words: [], comments: [] };
    if (cur.words.length === 0 && cur.comments.length > 0 && groups.length > 0 && !word) return null;
    cur.words.push(t);
    prevWord = word;
  }
  if (cur !== null) groups.push(cur);
  const out: AddrItem[] = [];
  for (const g of groups) {
    if (g.words.length === 0) {
      const last = out[out.length - 1];
      if (last === undefined) return null; // only comments
      last.comments.push(...g.comments);
      continue;
    }
    const addr = joinAddr(g.words);
    if (addr === null || addr === '') return null;
    out.push({ kind: 'addr', phrase: null, addr, comments: g.comments });
  }
  return out;
}

/** local[@domain] from words, dots and one @; null for anything else. */
function joinAddr(toks: readonly Token[]): string | null {
  let s = '';
  for (const t of toks) {
    if (t.kind === 'comment') continue;
    if (t.kind === 'special' && t.text !== '.' && t.text !== '@') return null;
    s += t.text;
  }
  return s;
}

/** Pure: every address of the list, in order (group members included). */
export function listAddresses(items: readonly ListItem[]): string[] {
  return items.flatMap((it) => (it.kind === 'addr' ? [it.addr] : it.members.map((m) => m.addr)));
}

/** Pure: the list with every address replaced by f(address). */
export function mapAddresses(items: readonly ListItem[], f: (addr: string) => string): ListItem[] {
  const one = (a: AddrItem): AddrItem => ({ ...a, addr: f(a.addr) });
  return items.map((it) => (it.kind === 'addr' ? one(it) : { ...it, members: it.members.map(one) }));
}

/** Words joined by one space; a '.' sticks to the word before it (`J. Smith`). */
function phraseText(toks: readonly Token[]): string {
  let out = '';
  for (const t of toks) {
    const text = t.kind === 'quoted' ? `"${t.text.replace(/["\\]/g, (c) => `\\${c}`)}"` : t.text;
    out += out === '' || text === '.' ? text : ` ${text}`;
  }
  return out;
}

function addrText(a: AddrItem): string {
  const comments = a.comments.map((c) => ` ${c}`).join('');
  if (a.phrase === null) return quote2(a.addr) + comments;
  const p = phraseText(a.phrase);
  return `${p === '' ? '' : `${p} `}<${quote2(a.addr)}>${comments}`;
}

function itemText(it: ListItem): string {
  if (it.kind === 'addr') return addrText(it);
  return `${phraseText(it.name)}: ${it.members.map(addrText).join(', ')};`;
}

/** Pure: the list printed after a field name of prefixChars characters (e.g. `To: ` = 4): items
 *  joined by `, `, folded after a comma when the next item (and its comma) would pass
 *  headerLineCharsMax. An item longer than a line stays whole. */
export function formatAddrList(items: readonly ListItem[], prefixChars: number): string {
  let out = '';
  let col = prefixChars;
  items.forEach((it, i) => {
    const text = itemText(it);
    if (i === 0) {
      out = text;
      col += text.length;
    } else if (col + 2 + text.length + (i + 1 < items.length ? 1 : 0) > headerLineCharsMax) {
      // The comma that may follow counts: no line is longer than headerLineCharsMax.
      out += `,\n${foldIndent}${text}`;
      col = foldIndent.length + text.length;
    } else {
      out += `, ${text}`;
      col += 2 + text.length;
    }
  });
  return out;
}
