// qmail-queue exit codes and the messages its clients print for them.
// Authority: the seed qmail-queue-clients(7) document (../shared/seeds/003_*.txt), which is
// indimail-mta's numbering; spec/queue.md section 2.4 has the notqmail differences.
// A message starting with 'D' is permanent, with 'Z' temporary.

export const qq = {
  ok: 0,
  permAddressTooLong: 11,
  permRejected: 31,
  permSpam: 32,
  permVirus: 33,
  permBannedAttachment: 34,
  permNoPrivateKey: 35,
  tempScannerPrivilege: 50,
  tempNoMem: 51,
  tempTimeout: 52,
  tempWriteError: 53,
  tempReadError: 54,
  tempConfig: 55,
  tempNetwork: 56,
  tempSharedObjectOpen: 57,
  tempSharedObjectSymbol: 58,
  tempSharedObjectClose: 59,
  tempPipes: 60,
  tempHomeDir: 61,
  tempMessFile: 62,
  tempChdirRoot: 63,
  tempSyncMess: 64,
  tempIntd: 65,
  tempLinkTodo: 66,
  tempLinkMess: 67,
  tempTmpFiles: 68,
  tempSyncDir: 69,
  tempPidFile: 70,
  tempRejected: 71,
  tempConnectTimeout: 72,
  tempConnectRejected: 73,
  tempCommunication: 74,
  tempExec: 75,
  tempSpamFilter: 76,
  tempQhpsi: 77,
  tempUids: 78,
  tempEnvelopeFormat: 79,
  tempRemoveIntd: 80,
  bug: 81,
  customCompat: 82,
  tempMisconfigured: 87,
  custom: 88,
  bugAlt: 91,
  tempExecQq: 120,
  tempFork: 121,
  tempWaitpid: 122,
  tempCrashed: 123,
} as const;

export type QqExit = (typeof qq)[keyof typeof qq];

/** The seed table, byte for byte. */
export const qqMessages: Readonly<Record<number, string>> = {
  11: 'Dqq envelope address too long (#5.1.3)',
  31: 'Dqq mail server permanently rejected message (#5.3.0)',
  32: 'Dqq spam or junk mail threshold exceeded (#5.7.1)',
  33: 'Dqq message contains virus (#5.7.1)',
  34: 'Dqq message contains banned attachment (#5.7.1)',
  35: 'Dqq private key file does not exist (#5.3.5)',
  50: 'Zqq unable to get privilege to run virus scanner (#4.3.0)',
  51: 'Zqq out of memory (#4.3.0)',
  52: 'Zqq timeout (#4.3.0)',
  53: 'Zqq write error or disk full (#4.3.0)',
  54: 'Zqq read error (#4.3.0)',
  55: 'Zqq unable to read configuration (#4.3.0)',
  56: 'Zqq trouble making network connection (#4.3.0)',
  57: 'Zqq unable to open shared object/plugin (#4.3.0)',
  58: 'Zqq unable to resolve symbol in shared object/plugin (#4.3.0)',
  59: 'Zqq unable to close shared object/plugin (#4.3.0)',
  60: 'Zqq trouble creating pipes/sockets (#4.3.0)',
  61: 'Zqq trouble in home directory (#4.3.0)',
  62: 'Zqq unable to access mess file (#4.3.0)',
  63: 'Zqq trouble doing cd to root directory (#4.3.0)',
  64: 'Zqq trouble syncing message to disk (#4.3.0)',
  65: 'Zqq trouble creating files in intd. (#4.3.0)',
  66: 'Zqq trouble linking todofn to intdfn (#4.3.0)',
  67: 'Zqq trouble linking messfn to pidfn (#4.3.0)',
  68: 'Zqq trouble creating temporary files (#4.3.0)',
  69: 'Zqq trouble syncing dir to disk (#4.3.0)',
  70: 'Zqq trouble with pid file (#4.3.0)',
  71: 'Zqq mail server temporarily rejected message (#4.3.0)',
  72: 'Zqq connection to mail server timed out (#4.4.1)',
  73: 'Zqq connection to mail server rejected (#4.4.1)',
  74: 'Zqq communication with mail server failed (#4.4.2)',
  75: 'Zqq unable to exec (#4.3.0)',
  76: 'Zqq temporary problem with SPAM filter (#4.3.0)',
  77: 'Zqq unable to run QHPSI scanner (#4.3.0)',
  78: 'Zqq trouble getting uids/gids (#4.3.0)',
  79: 'Zqq envelope format error (#4.3.0)',
  80: 'Zqq trouble removing intdfn',
  81: 'Zqq internal bug (#4.3.0)',
  91: 'Zqq internal bug (#4.3.0)',
  87: 'Zqq mail system incorrectly configured. (#4.3.5)',
  82: 'Zqq unable to exec qq (#4.3.0)',
  120: 'Zqq unable to exec qq (#4.3.0)',
  121: 'Zqq unable to fork (#4.3.0)',
  122: 'Zqq waitpid surprise (#4.3.0)',
  123: 'Zqq crashed (#4.3.0)',
};

export const qqPermanentProblem = 'Dqq permanent problem (#5.3.0)';
export const qqTemporaryProblem = 'Zqq temporary problem (#4.3.0)';

/** 11..40 are permanent (the seed: "exits with a value from 11 to 40"). */
export function qqIsPermanent(code: number): boolean {
  return code >= 11 && code <= 40;
}

/** Largest custom error message a client keeps (bytes read from the frontend's error fd). */
export const customErrorBytesMax = 1024;
