// qmail-send's state (nq:qmail-send.c): channels with their delivery slots, jobs, passes and
// priority queues. One Send per process, owned by the event loop (loop.ts); background tasks
// change it only through the functions of this folder.

import type { Semaphore } from '../lib/semaphore.ts';
import type { Fd, Sys } from '../sys/types.ts';
import type { Channel } from '../../spec/send.ts';
import type { QueueLayout } from '../../spec/queue.ts';
import type { Prioq } from '../lib/prioq.ts';
import type { CleanClient } from '../shared/clean-client.ts';
import type { PoolGiver } from '../shared/file-pool.ts';
import type { SerialWriter } from '../shared/fd-stream.ts';
import type { Wakeup } from '../shared/wakeup.ts';
import type { ActivityLog } from './activity-log.ts';
import type { SendConfig } from './config.ts';
import type { RecordReader } from './files.ts';

/** The deliveries of one message on one channel in one pass (struct job). */
export interface Job {
  id: number;
  channel: Channel;
  /** When the job goes back into pqchan if something is left to do (nextretry). */
  retry: number;
  sender: string;
  /** T records started and not yet answered K or D. */
  numtodo: number;
  hitEof: boolean;
  dying: boolean;
  /** The pass and each delivery in flight hold one; at 0 the job closes. */
  refs: number;
  /** The channel file, open read-write from the pass's start to the job's close: the pass reads
   *  it and markdone writes its D bytes through it (qmail reopens it per mark; same bytes). */
  fd: Fd;
}

export interface Delivery {
  job: Job;
  delid: number;
  /** Offset of its T record in local/ or remote/ (markdone writes D there). */
  mpos: number;
  recip: string;
}

/** Reading one channel file record by record (struct pass). */
export interface Pass {
  id: number;
  job: Job;
  reader: RecordReader;
  /** Offset of the next record. */
  mpos: number;
}

export interface ChannelState {
  c: Channel;
  /** Commands to the spawner (fd 1 or 3) and reports from it (fd 2 or 4). */
  out: SerialWriter;
  inFd: Fd;
  concurrency: number;
  used: number;
  slots: (Delivery | null)[];
  alive: boolean;
  /** The report being assembled (slot byte, letter, text). */
  line: number[];
  /** Complete reports not yet handled by the loop. */
  reports: Uint8Array[];
  pass: Pass | null;
  pq: Prioq;
  /** Ids in pq or in an open job of this channel: never two passes for one job. */
  members: Set<number>;
}

export interface Send {
  sys: Sys;
  home: string;
  layout: QueueLayout;
  cfg: SendConfig;
  log: ActivityLog;
  wake: Wakeup;
  /** now() at the top of the loop, in seconds. */
  recent: number;
  chans: [ChannelState, ChannelState];
  pqdone: Prioq;
  /** Ids in pqdone or in a running messdone. */
  doneIds: Set<number>;
  /** Channel files known durably absent, by id (bit 1 << channel): the ones todo-proc's D record
   *  said it did not make (it removed any leftover before announcing), and the one a job_close of
   *  ours unlinked and synced. Only todo-proc makes channel files, and only from a todo/ID, which
   *  cannot come back while the message exists: messdone need not stat these. Bit todoAbsent:
   *  todo/ID itself, gone durably before todo-proc's D record (qmail-clean's +), and only
   *  qmail-queue makes one, for a new message whose mess inode cannot be ours while we exist. Kept
   *  until messdone is done with the id. */
  chanAbsent: Map<number, number>;
  pqfail: Prioq;
  failIds: Set<number>;
  jobsMax: number;
  jobsOpen: number;
  masterDelid: number;
  exitAsap: boolean;
  runAsap: boolean;
  readAsap: boolean;
  clean: CleanClient;
  /** Where finished info/local/remote files go for todo-proc to reuse (impl/shared/file-pool.ts). */
  pool: PoolGiver;
  todo: TodoLink;
  /** Background work (markdone, job_close, messdone, cleanup) that must end before exit. */
  tasks: Set<Promise<void>>;
  messdoneRunning: number;
  cleanupTime: number;
  cleanupRunning: boolean;
  /** bounce/ID unlinked but its directory not yet synced (a failed fsync): sync before trusting. */
  bounceUnsynced: Set<number>;
  /** The ids whose bounce/ID may exist: those bounce/ held at start and those appended to since
   *  (only qmail-send writes bounce/); null when bounce/ could not be read: messdone looks. */
  bounceMayExist: Set<number> | null;
  /** Appends to one bounce/ID run one after another. */
  bounceChains: Map<number, Promise<void>>;
  /** Bounds the qmail-queue runs of bounces (messdone.ts bounceQueueMax). */
  bounceQueueing: Semaphore;
}

export interface TodoLink {
  alive: boolean;
  /** todo-proc said X: its end is expected. */
  exiting: boolean;
  records: Uint8Array[];
  send(command: string): void;
}
