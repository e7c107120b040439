// Grammar of qmail-queue's Received line (spec/queue.md 2.3), for checkers.

export const receivedLineRe =
  /^Received: \(qmail [0-9]+ invoked (by alias|from network|for bounce|by uid [0-9]+)\); ([1-9]|[12][0-9]|3[01]) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] -0000\n$/;

export function isReceivedLine(line: string): boolean {
  return receivedLineRe.test(line);
}
