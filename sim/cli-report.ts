// The terminal report's two shared parts, one form for every `qsim` command: the summary table
// (label column padded) and the verdict with at most 20 violations. Pure.

/** The rows, two spaces in, labels padded to the widest; each line ends with a newline. */
export function tableText(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}\n`).join('');
}

/** `held` when there are no violations, else FAILED and the first 20; no final newline. */
export function verdictText(violations: readonly string[], held = 'every invariant held'): string {
  return violations.length === 0 ? held : `FAILED:\n${violations.slice(0, 20).map((v) => `  ${v}`).join('\n')}`;
}
