// A small --name value parser for the simulator's command line (pure).

export type ArgKind = 'int' | 'string' | 'flag';

export function parseArgs(
  argv: readonly string[],
  spec: Record<string, ArgKind>,
): { values: Record<string, number | string | boolean> } | { error: string } {
  const values: Record<string, number | string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const kind = m === null ? undefined : spec[m[1] as string];
    if (m === null || kind === undefined) return { error: `unknown argument ${arg}` };
    const name = m[1] as string;
    if (kind === 'flag') {
      values[name] = true;
      continue;
    }
    const v = m[2] ?? argv[++i];
    if (v === undefined) return { error: `--${name} needs a value` };
    if (kind === 'int') {
      if (!/^[0-9]{1,15}$/.test(v)) return { error: `--${name} takes a whole number, not ${v}` };
      values[name] = Number(v);
    } else values[name] = v;
  }
  return { values };
}
