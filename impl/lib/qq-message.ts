// What a qmail-queue client prints for an exit code (the seed qmail-queue-clients table), including
// custom errors: a frontend that exits 88 (or 82, for compatibility) may write its own message on its
// error fd; it must start with D (permanent) or Z (temporary).

import {
  customErrorBytesMax,
  qq,
  qqIsPermanent,
  qqMessages,
  qqPermanentProblem,
  qqTemporaryProblem,
} from '../../spec/exit-codes.ts';

export interface QqOutcome {
  /** 'ok' when queued, 'D' permanent, 'Z' temporary. */
  kind: 'ok' | 'D' | 'Z';
  /** The client message, starting with D or Z ('' when queued). */
  message: string;
}

export type QqExitStatus = { code: number } | { signal: string };

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Pure. `custom` is what the frontend wrote on its error fd (null when custom errors are off). */
export function qqOutcome(status: QqExitStatus, custom: Uint8Array | null): QqOutcome {
  if ('signal' in status) return outcome(qqMessages[qq.tempCrashed] as string);
  const code = status.code;
  if (code === 0) return { kind: 'ok', message: '' };
  if (code === qq.custom || code === qq.customCompat) {
    const text = customText(custom);
    if (text !== null) return outcome(text);
    if (code === qq.custom) return outcome(qqTemporaryProblem);
  }
  const known = qqMessages[code];
  if (known !== undefined) return outcome(known);
  return outcome(qqIsPermanent(code) ? qqPermanentProblem : qqTemporaryProblem);
}

function outcome(message: string): QqOutcome {
  return { kind: message.startsWith('D') ? 'D' : 'Z', message };
}

/** The first line of the custom error, if it is a usable D/Z message. */
export function customText(custom: Uint8Array | null): string | null {
  if (custom === null || custom.length === 0) return null;
  const text = decoder.decode(custom.subarray(0, customErrorBytesMax));
  const line = (text.split('\n')[0] ?? '').replace(/\r$/, '');
  if (line.length < 2) return null;
  const first = line[0];
  return first === 'D' || first === 'Z' ? line : `Z${line}`;
}
