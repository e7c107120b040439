// Interfaces shared by qmail-local (the program and the in-process delivery used by qmail-lspawn's
// workers), qmail-getpw / users/cdb lookup, and qmail-lspawn. The contract is qmail's: the same
// arguments, output text and exit codes as `qmail-local [-nN] user homedir local dash ext domain
// sender defaultdelivery` (../shared/spec/local.md section 2).

/** qmail-local's arguments, in its argv order. */
export interface LocalArgs {
  user: string;
  homedir: string;
  local: string;
  dash: string;
  ext: string;
  domain: string;
  sender: string;
  defaultDelivery: string;
  /** -n: print what would be done instead of doing it. -N: the opposite (default). */
  dryRun: boolean;
}

/** The message, read by position so it can be read once per delivery instruction without lseek
 *  (Node has none): a seekable fd (fstat size + positional reads) or bytes in memory. */
export interface MessageSource {
  readonly size: number;
  /** The whole message when it is in memory (a delivery worker's): read without copying. */
  readonly bytes?: Uint8Array;
  /** Reads up to buf.length bytes at pos; 0 at the end. */
  read(pos: number, buf: Uint8Array): Promise<number>;
}

/** What a qmail-local run produced: its exit code and everything it wrote on fd 1 (and fd 2, which
 *  qmail-lspawn joins to fd 1), exactly as the standalone program would. */
export interface LocalResult {
  code: number;
  output: Uint8Array;
}

/** A user record, from users/cdb or qmail-getpw: the six fields qmail-getpw prints. uid and gid
 *  stay decimal text as in the cdb (users/assign may hold anything; lspawn validates). */
export interface UserRecord {
  user: string;
  uid: string;
  gid: string;
  homedir: string;
  dash: string;
  ext: string;
}
