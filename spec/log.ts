// The activity log's grammar (../shared/spec/queue.md 3.8): every line qmail-send writes on fd 0 and
// every L line todo-proc hands it, as a typed event, with a formatter and a parser that are each
// other's inverse. qmail-send and todo-proc build their lines with formatLogLine, so what they write
// is in this grammar by construction; tests parse every line a run produced.
//
// notqmail's lines are the contract (multilog, qmailanalog and matchup read them). indimail's
// variants (a queue name appended, `<delid>.<QIDENT>` delivery numbers, todo-proc's own lines) parse
// too, so that a log of either family can be checked. A line is given without its \n; it is a
// string of one character per byte. Fields that carry addresses or reports are logsafe'd by the
// writer: bytes 33..126 except '%' (`safe` below).

export type Usage = { used: number; limit: number };
export type DeliveryNumber = { n: number; qident: string | null };
export type ChannelName = 'local' | 'remote';
export type DeliveryResult = 'success' | 'deferral' | 'failure';

/** `alert: <text>` lines of notqmail (and ours: lostTodo), keyed by name; {f} is a queue path. */
export const alertTexts = {
  lostSpawn: 'oh no! lost spawn connection! dying...',
  lostClean: 'oh no! lost qmail-clean connection! dying...',
  /** Ours, in notqmail's words (indimail: `alert: qmail-send: <q>: oh no! lost todo-proc ...`). */
  lostTodo: 'oh no! lost todo-proc connection! dying...',
  noMem: 'out of memory, sleeping...',
  opendir: 'unable to opendir {f}, sleeping...',
  bounceAppend: 'unable to append to bounce message; HELP! sleeping...',
  rereadLocals: 'unable to reread control/locals',
  rereadVirtualdomains: 'unable to reread control/virtualdomains',
  rereadHome: 'unable to reread controls: unable to switch to home directory',
  switchBack: 'unable to switch back to queue directory; HELP! sleeping...',
} as const;
export type AlertName = keyof typeof alertTexts;

/** `alert: cannot start: <reason>`. */
export const cannotStartReasons = {
  home: 'unable to switch to home directory',
  controls: 'unable to read controls',
  queue: 'unable to switch to queue directory',
  mutex: 'unable to open mutex',
  running: 'qmail-send is already running',
  spawn: 'hath the daemon spawn no fire?',
  /** Ours: todo-proc did not take the C byte. */
  todo: 'unable to talk to todo-proc',
} as const;
export type CannotStartReason = keyof typeof cannotStartReasons;

/** `warning: <text>` lines; {f} is a queue path such as local/5/1234 or bounce/1234. */
export const warningTexts = {
  reportRange: 'internal error: delivery report out of range',
  cleanUp: 'qmail-clean unable to clean up {f}',
  fsync: 'trouble fsyncing {f}',
  select: 'trouble in select',
  inject: 'trouble injecting bounce message, will try later',
  mark: 'trouble marking {f}; message will be delivered twice!',
  openLater: 'trouble opening {f}; will try again later',
  readLater: 'trouble reading {f}; will try again later',
  read: 'trouble reading {f}',
  write: 'trouble writing to {f}',
  create: 'unable to create {f}',
  open: 'unable to open {f}',
  startQueue: 'unable to start qmail-queue, will try later',
  statLater: 'unable to stat {f}; will try again later',
  stat: 'unable to stat {f}',
  unlinkLater: 'unable to unlink {f}; will try again later',
  unlink: 'unable to unlink {f}',
  utime: 'unable to utime {f}; message will be retried too soon',
  unknownRecordPass: 'unknown record type in {f}!',
  unknownRecord: 'unknown record type in {f}',
} as const;
export type WarningName = keyof typeof warningTexts;

export type LogEvent =
  | { kind: 'status'; local: Usage; remote: Usage; exitasap: boolean; held: [boolean, boolean]; delayedJobs: number | null; queue: string | null }
  | { kind: 'exiting' }
  | { kind: 'new'; id: number; queue: string | null }
  | { kind: 'info'; id: number; bytes: number; from: string; qp: number; uid: number; queue: string | null }
  | { kind: 'starting'; delivery: DeliveryNumber; id: number; channel: ChannelName; recipient: string; queue: string | null }
  | { kind: 'delivery'; delivery: DeliveryNumber; result: DeliveryResult; report: string; queue: string | null }
  | { kind: 'mangled'; delivery: DeliveryNumber }
  | { kind: 'bounce'; id: number; qp: number; queue: string | null }
  | { kind: 'triple'; id: number }
  | { kind: 'end'; id: number; queue: string | null }
  | { kind: 'alert'; alert: AlertName; file: string | null }
  | { kind: 'cannotStart'; reason: CannotStartReason }
  | { kind: 'warning'; warning: WarningName; file: string | null }
  /** indimail todo-proc: one per recipient. */
  | { kind: 'todoStat'; channel: ChannelName; sender: string; recipient: string; id: number; bytes: number; queue: string; mode: 'opendir' | 'mqueue' | 'compat' }
  /** todo-proc's todo entry line; `incorrect` is the BIGTODO split check's warn line. */
  | { kind: 'todoSubdir'; queue: string; subdir: number; fnSplit: number; id: number; incorrect: boolean }
  /** todo-proc's start-up line. */
  | { kind: 'todoStart'; pid: number; queueDir: string; split: number; chunk: number; bigtodo: boolean }
  /** Any other indimail-style `info|warn|alert: <program>: <text>` line. */
  | { kind: 'program'; level: 'info' | 'warn' | 'alert'; program: string; text: string };

export type LogParse = LogEvent | { error: string };

// ---- formatting ----

const num = (n: number): string => String(n);
const q = (queue: string | null): string => (queue === null ? '' : ` ${queue}`);
const delid = (d: DeliveryNumber): string => (d.qident === null ? num(d.n) : `${d.n}.${d.qident}`);
const fill = (template: string, file: string | null): string => template.replace('{f}', file ?? '');

/** The line for an event, without its \n. The caller has made address and report fields safe. */
export function formatLogLine(e: LogEvent): string {
  switch (e.kind) {
    case 'status': {
      const held = (h: boolean): string => (h ? ' (held)' : '');
      const delayed = e.delayedJobs === null ? '' : ` delayed jobs=${e.delayedJobs}`;
      return `status: local ${e.local.used}/${e.local.limit}${held(e.held[0])} remote ${e.remote.used}/${e.remote.limit}${held(e.held[1])}${delayed}${q(e.queue)}${e.exitasap ? ' exitasap' : ''}`;
    }
    case 'exiting':
      return 'status: exiting';
    case 'new':
      return `new msg ${e.id}${q(e.queue)}`;
    case 'info':
      return `info msg ${e.id}: bytes ${e.bytes} from <${e.from}> qp ${e.qp} uid ${e.uid}${q(e.queue)}`;
    case 'starting':
      return `starting delivery ${delid(e.delivery)}: msg ${e.id} to ${e.channel} ${e.recipient}${q(e.queue)}`;
    case 'delivery':
      return `delivery ${delid(e.delivery)}: ${e.result}: ${e.report}${q(e.queue)}`;
    case 'mangled':
      return `delivery ${delid(e.delivery)}: report mangled, will defer`;
    case 'bounce':
      return `bounce msg ${e.id} qp ${e.qp}${q(e.queue)}`;
    case 'triple':
      return `triple bounce: discarding bounce/${e.id}`;
    case 'end':
      return `end msg ${e.id}${e.queue === null ? '' : ` qmail-send: ${e.queue}`}`;
    case 'alert':
      return `alert: ${fill(alertTexts[e.alert], e.file)}`;
    case 'cannotStart':
      return `alert: cannot start: ${cannotStartReasons[e.reason]}`;
    case 'warning':
      return `warning: ${fill(warningTexts[e.warning], e.file)}`;
    case 'todoStat':
      return `${e.channel}: ${e.sender} ${e.recipient} ${e.id} ${e.bytes} bytes ${e.queue} ${e.mode} mode`;
    case 'todoSubdir':
      return `${e.incorrect ? 'warn' : 'info'}: todo-proc: ${e.queue}: subdir=todo/${e.subdir} fn=todo/${e.fnSplit}/${e.id}${e.incorrect ? ' incorrect split' : ''}`;
    case 'todoStart':
      return `info: todo-proc: pid ${e.pid}: ${e.queueDir}: conf split=${e.split}, todo chunk size=${e.chunk}, bigtodo=${e.bigtodo ? 'yes' : 'no'}`;
    case 'program':
      return `${e.level}: ${e.program}: ${e.text}`;
  }
}

// ---- parsing ----

/** logsafe's output alphabet: bytes 33..126 except '%'. */
const safe = '[!-$&-~]';
const n = '(0|[1-9][0-9]{0,15})';
const d = `${n}(?:\\.(${safe}+?))?`;
const queue = `(?: (${safe}+))?`;
/** A queue path in a warning or alert. */
const file = '([A-Za-z0-9._/-]+)';
const word = '[A-Za-z0-9._/-]+';

type Matcher = [RegExp, (m: RegExpExecArray) => LogEvent | null];

const int = (s: string | undefined): number => Number(s);
const opt = (s: string | undefined): string | null => s ?? null;
const dnum = (a: string | undefined, b: string | undefined): DeliveryNumber => ({ n: int(a), qident: opt(b) });
const chan = (s: string | undefined): ChannelName => (s === 'local' ? 'local' : 'remote');

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function templateRe(prefix: string, template: string): RegExp {
  return new RegExp(`^${escape(prefix)}${escape(template).replace('\\{f\\}', file)}$`);
}

const matchers: Matcher[] = [
  [
    new RegExp(`^status: local ${n}/${n}( \\(held\\))? remote ${n}/${n}( \\(held\\))?(?: delayed jobs=${n})?(?: (?!exitasap$)(${safe}+))?( exitasap)?$`),
    (m) => ({
      kind: 'status', local: { used: int(m[1]), limit: int(m[2]) }, remote: { used: int(m[4]), limit: int(m[5]) },
      held: [m[3] !== undefined, m[6] !== undefined], delayedJobs: m[7] === undefined ? null : int(m[7]), queue: opt(m[8]), exitasap: m[9] !== undefined,
    }),
  ],
  [/^status: exiting$/, () => ({ kind: 'exiting' })],
  [new RegExp(`^new msg ${n}${queue}$`), (m) => ({ kind: 'new', id: int(m[1]), queue: opt(m[2]) })],
  [
    new RegExp(`^info msg ${n}: bytes ${n} from <(${safe}*)> qp ${n} uid ${n}${queue}$`),
    (m) => ({ kind: 'info', id: int(m[1]), bytes: int(m[2]), from: m[3] ?? '', qp: int(m[4]), uid: int(m[5]), queue: opt(m[6]) }),
  ],
  [
    new RegExp(`^starting delivery ${d}: msg ${n} to (local|remote) (${safe}*?)${queue}$`),
    (m) => ({ kind: 'starting', delivery: dnum(m[1], m[2]), id: int(m[3]), channel: chan(m[4]), recipient: m[5] ?? '', queue: opt(m[6]) }),
  ],
  [new RegExp(`^delivery ${d}: report mangled, will defer$`), (m) => ({ kind: 'mangled', delivery: dnum(m[1], m[2]) })],
  [
    new RegExp(`^delivery ${d}: (success|deferral|failure): (${safe}*?)${queue}$`),
    (m) => ({ kind: 'delivery', delivery: dnum(m[1], m[2]), result: m[3] as DeliveryResult, report: m[4] ?? '', queue: opt(m[5]) }),
  ],
  [new RegExp(`^bounce msg ${n} qp ${n}${queue}$`), (m) => ({ kind: 'bounce', id: int(m[1]), qp: int(m[2]), queue: opt(m[3]) })],
  [new RegExp(`^triple bounce: discarding bounce/${n}$`), (m) => ({ kind: 'triple', id: int(m[1]) })],
  [new RegExp(`^end msg ${n}(?: qmail-send: (${safe}+))?$`), (m) => ({ kind: 'end', id: int(m[1]), queue: opt(m[2]) })],
  ...Object.entries(cannotStartReasons).map(
    ([reason, text]): Matcher => [new RegExp(`^alert: cannot start: ${escape(text)}$`), () => ({ kind: 'cannotStart', reason: reason as CannotStartReason })],
  ),
  ...Object.entries(alertTexts).map(
    ([alert, text]): Matcher => [templateRe('alert: ', text), (m) => ({ kind: 'alert', alert: alert as AlertName, file: opt(m[1]) })],
  ),
  ...Object.entries(warningTexts).map(
    ([warning, text]): Matcher => [templateRe('warning: ', text), (m) => ({ kind: 'warning', warning: warning as WarningName, file: opt(m[1]) })],
  ),
  [
    new RegExp(`^(local|remote): (${safe}+) (${safe}+) ${n} ${n} bytes (${safe}+) (opendir|mqueue|compat) mode$`),
    (m) => ({
      kind: 'todoStat', channel: chan(m[1]), sender: m[2] ?? '', recipient: m[3] ?? '', id: int(m[4]), bytes: int(m[5]), queue: m[6] ?? '',
      mode: m[7] as 'opendir' | 'mqueue' | 'compat',
    }),
  ],
  [
    new RegExp(`^(info|warn): todo-proc: (${safe}+): subdir=todo/${n} fn=todo/${n}/${n}( incorrect split)?$`),
    (m) => {
      const incorrect = m[6] !== undefined;
      if (incorrect !== (m[1] === 'warn')) return null;
      return { kind: 'todoSubdir', queue: m[2] ?? '', subdir: int(m[3]), fnSplit: int(m[4]), id: int(m[5]), incorrect };
    },
  ],
  [
    new RegExp(`^info: todo-proc: pid ${n}: (${word}): conf split=${n}, todo chunk size=${n}, bigtodo=(yes|no)$`),
    (m) => ({ kind: 'todoStart', pid: int(m[1]), queueDir: m[2] ?? '', split: int(m[3]), chunk: int(m[4]), bigtodo: m[5] === 'yes' }),
  ],
  [
    /^(info|warn|alert): ([a-z][a-z0-9-]*): ([ -~]*)$/,
    (m) => ({ kind: 'program', level: m[1] as 'info' | 'warn' | 'alert', program: m[2] ?? '', text: m[3] ?? '' }),
  ],
];

/** The event a log line (without \n) records, or why it is not a line of the grammar. Never throws. */
export function parseLogLine(line: string): LogParse {
  if (line.length > 20_000) return { error: 'line too long' };
  for (const [re, make] of matchers) {
    const m = re.exec(line);
    if (m === null) continue;
    const e = make(m);
    if (e !== null && numbersFit(e)) return e;
  }
  return { error: `not a log line: ${JSON.stringify(line.slice(0, 120))}` };
}

function numbersFit(e: LogEvent): boolean {
  const values: number[] = [];
  for (const v of Object.values(e)) {
    if (typeof v === 'number') values.push(v);
    else if (v !== null && typeof v === 'object' && 'n' in v) values.push((v as DeliveryNumber).n);
  }
  return values.every((v) => Number.isSafeInteger(v));
}

/** Splits a log's bytes (one character per byte) into lines; a last line without \n is an error. */
export function logLines(text: string): { lines: string[]; partial: string } {
  const parts = text.split('\n');
  const partial = parts.pop() ?? '';
  return { lines: parts, partial };
}
