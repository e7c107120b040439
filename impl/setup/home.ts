// The installation's own directories (notqmail hier.c): DIR and bin, libexec, control, users
// 0755 root:qmail; alias 02755 alias:qmail (setgid, so the files the alias user creates stay in
// group qmail). And DIR/package.json saying "commonjs": the programs are extensionless CommonJS
// bundles, and Node would load them as ES modules if some package.json above DIR said "module".

import { qmailUsers } from '../../spec/queue.ts';
import type { FixContext } from '../queue-fix/context.ts';
import { ensureDir } from '../queue-fix/directories.ts';
import type { Owners } from '../queue-fix/owners.ts';
import { permanent } from './failure.ts';
import { installFile } from './installed-file.ts';

/** Same bytes as scripts/build.ts writes into dist/. */
const commonjsPackage = new TextEncoder().encode('{ "type": "commonjs" }\n');

const rootDirs = ['', 'bin', 'libexec', 'control', 'users'] as const;

export async function installHome(ctx: FixContext, owners: Owners): Promise<void> {
  const owner = owners.of(qmailUsers.owner);
  for (const rel of rootDirs) {
    if (!(await ensureDir(ctx, owners, rel, { owner, mode: 0o755 }))) throw permanent(`${ctx.root}/${rel} is in the way`);
  }
  if (!(await ensureDir(ctx, owners, 'alias', { owner: owners.of(qmailUsers.alias), mode: 0o2755 }))) {
    throw permanent(`${ctx.root}/alias is in the way`);
  }
  await installFile(ctx, owners, 'package.json', commonjsPackage, { owner, mode: 0o644 });
}
