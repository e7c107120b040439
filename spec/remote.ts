// qmail-remote and qmail-rspawn: every report text qmail-remote prints (byte for byte, notqmail
// qmail-remote.c), its control defaults, and qmail-rspawn's rule that turns qmail-remote's records
// into one spawn report (qmail-rspawn.c report()).
// Facts: ../shared/spec/local.md 5 and ../shared/spec/queue.md 4.2.

/** control/timeoutconnect default, seconds. */
export const timeoutConnectSec = 60;
/** control/timeoutremote default, seconds: each read and each write of the dialogue. */
export const timeoutRemoteSec = 1200;
/** The SMTP port when smtproutes names none. */
export const smtpPort = 25;
/** HUGESMTPTEXT: reply text kept for a report (CRs dropped). */
export const replyTextBytesMax = 5000;
/** prefme when no address is ours (the ipme check is not made here; see impl/remote/mx.ts). */
export const prefMeNone = 100_000;
/** prefme with a relay from smtproutes: every address may be tried. */
export const prefMeRelay = 300_000;

/** Reports that are a whole message report (letter, text, `\n`); a NUL follows each one. */
export const remoteReports = {
  usage: 'DI (qmail-remote) was invoked improperly. (#5.3.5)\n',
  noMem: 'ZOut of memory. (#4.3.0)\n',
  osErr: 'ZSystem resources temporarily unavailable. (#4.3.0)\n',
  readMessage: 'ZUnable to read message. (#4.3.0)\n',
  chdir: 'ZUnable to switch to home directory. (#4.3.0)\n',
  controls: 'ZUnable to read control files. (#4.3.0)\n',
  dnsTemp: "ZSorry, I couldn't find any host by that name. (#4.1.2)\n",
  noMx: "DSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n",
  ambigMx:
    "DSorry. Although I'm listed as a best-preference MX or A for that host,\nit isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n",
  noConn: "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n",
  partialLine: 'DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n',
} as const;

/** perm_dns: HOST with bytes < 33 or > 126 shown as `?`. */
export function dnsHardReport(host: string): string {
  let shown = '';
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    shown += c < 33 || c > 126 ? '?' : host[i];
  }
  return `DSorry, I couldn't find any host named ${shown}. (#5.1.2)\n`;
}

/** quit(prepend, append) of smtp(): prepend + IP + append + `.\n`; remote text follows when kept. */
export const quitTexts = {
  greeting: ['ZConnected to ', ' but greeting failed'],
  helo: ['ZConnected to ', ' but my name was rejected'],
  senderPerm: ['DConnected to ', ' but sender was rejected'],
  senderTemp: ['ZConnected to ', ' but sender was rejected'],
  givingUp: ['DGiving up on ', ''],
  dataPerm: ['D', ' failed on DATA command'],
  dataTemp: ['Z', ' failed on DATA command'],
  afterPerm: ['D', ' failed after I sent the message'],
  afterTemp: ['Z', ' failed after I sent the message'],
  accepted: ['K', ' accepted message'],
} as const satisfies Record<string, readonly [string, string]>;

export type QuitKind = keyof typeof quitTexts;

export const remoteTextPrefix = 'Remote host said: ';
/** Recipient reports: r (accepted, no text), h (permanent), s (temporary) + IP + this. */
export const recipientRejectText = ' does not like recipient.\n';

/** dropped(): the connection died (EOF, error or timeout); critical = after the final dot was sent. */
export function droppedReport(ip: string, critical: boolean): string {
  return `ZConnected to ${ip} but connection died. ${critical ? 'Possible duplicate! ' : ''}(#4.4.2)\n`;
}

// ---- qmail-rspawn ----

export const rspawnReports = {
  crashed: 'Zqmail-remote crashed.\n',
  runTemp: 'ZUnable to run qmail-remote.\n',
  runPerm: 'DUnable to run qmail-remote.\n',
  noOutput: 'Zqmail-remote produced no output.\n',
} as const;

/** The program qmail-rspawn runs (via PATH) when QMAILREMOTE is not set; ours runs in-process. */
export const remoteProgram = 'qmail-remote';

/** How a qmail-remote run ended, as qmail-rspawn sees it. */
export type RemoteEnd = { code: number } | { crashed: true };

const K = 0x4b;
const Z = 0x5a;
const D = 0x44;

/** qmail-rspawn.c report(), byte for byte: qmail-remote's output s (NUL-terminated records) → the
 *  spawn report (letter + text, no NUL). Records without their NUL are not records (as in C). */
export function rspawnReport(end: RemoteEnd, s: Uint8Array): Uint8Array {
  const enc = new TextEncoder();
  if ('crashed' in end) return enc.encode(rspawnReports.crashed);
  if (end.code === 111) return enc.encode(rspawnReports.runTemp);
  if (end.code !== 0) return enc.encode(rspawnReports.runPerm);
  if (s.length === 0) return enc.encode(rspawnReports.noOutput);
  let result = -1;
  let j = 0;
  for (let k = 0; k < s.length; k++) {
    if (s[k] !== 0) continue;
    if (s[j] === K) {
      result = 1;
      break;
    }
    if (s[j] === Z) {
      result = 0;
      break;
    }
    if (s[j] === D) break;
    j = k + 1;
  }
  let orr = result;
  if (s[0] === 0x73) orr = 0; // 's'
  else if (s[0] === 0x68) orr = -1; // 'h'
  const out: number[] = [orr === 1 ? K : orr === 0 ? Z : D];
  const cstr = (from: number): void => {
    for (let i = from; i < s.length && s[i] !== 0; i++) out.push(s[i] as number);
  };
  for (let k = 1; k < s.length; ) {
    if (s[k++] !== 0) continue;
    cstr(1);
    if (result <= orr && k < s.length && (s[k] === Z || s[k] === D || s[k] === K)) cstr(k + 1);
    break;
  }
  return Uint8Array.from(out);
}
