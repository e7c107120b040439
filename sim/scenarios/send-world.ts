// A simulated world for qmail-send, todo-proc and qmail-clean: qmail installed with chosen controls,
// the daemons started by sim/boot-send.ts with scripted fake spawners (sim/fake-spawner.ts) or the
// real qmail-rspawn-defer, and clients that queue messages through the real qmail-queue. Messages
// carry `X-Sim-Index: N` first, so that a checker knows a delivery's message from its bytes.

import { Kernel, type KernelOptions } from '../kernel.ts';
import { addSubmitters, installQmail, type Installation } from '../install.ts';
import type { CrashProfile } from '../fs-api.ts';
import { bootSend, installBootSend, type SendBoot } from '../boot-send.ts';
import { fakeSpawner, SpawnerWorld, type SpawnScript } from '../fake-spawner.ts';
import { queueMessage } from '../../impl/shared/qq-client.ts';
import { latin1Bytes } from '../../impl/lib/latin1.ts';
import type { Program } from '../../impl/sys/types.ts';
import type { SpawnHandle } from '../world.ts';

export interface SendWorldOpts {
  seed: number;
  profile?: CrashProfile;
  split?: number;
  bigtodo?: boolean;
  /** control/<name> contents (me is sim.example unless given). */
  controls?: Record<string, string>;
  local: SpawnScript;
  /** A script, or 'defer' for the real qmail-rspawn-defer. */
  remote: SpawnScript | 'defer';
  localSlots?: number;
  remoteSlots?: number;
  latency?: KernelOptions['latency'];
  keepTraceLines?: number;
  /** Replace installed programs' mains (a deliberately broken daemon, in tests). */
  override?: Record<string, Program>;
}

export interface Mail {
  sender: string;
  recipients: string[];
  /** Header lines and body after X-Sim-Index (default: a subject and a line). */
  text?: string;
}

export interface Submitted extends Mail {
  index: number;
  body: Uint8Array;
  handle: SpawnHandle;
  /** Set when the client exited: qmail-queue's exit code (0 = accepted), null if cut off. */
  code: number | null | undefined;
}

export interface SendWorld {
  k: Kernel;
  inst: Installation;
  spawners: SpawnerWorld;
  lspawn: string;
  rspawn: string;
  submitted: Submitted[];
  /** Starts the daemons (a new boot epoch for the spawners' records). */
  boot(env?: Record<string, string>, todoFlags?: string[]): SendBoot;
  /** Queues a message through qmail-queue as an ordinary user; the client runs as the world runs. */
  submit(mail: Mail): Submitted;
}

export const submitterGid = 100;

export function bodyOf(index: number, mail: Mail): Uint8Array {
  return latin1Bytes(`X-Sim-Index: ${index}\n${mail.text ?? `Subject: message ${index}\n\nhello ${index}\n`}`);
}

export async function sendWorld(opts: SendWorldOpts): Promise<SendWorld> {
  const k = new Kernel({ seed: opts.seed, profile: opts.profile ?? 'posix', latency: opts.latency, trace: { syscalls: false, keepLines: opts.keepTraceLines ?? 2000 } });
  const inst = await installQmail(k, { split: opts.split ?? 7, bigtodo: opts.bigtodo ?? false, override: opts.override });
  const root = { uid: 0, gid: 0, mode: 0o644 };
  for (const [name, text] of Object.entries({ locals: 'sim.example\n', ...opts.controls })) k.writeFile(`${inst.home}/control/${name}`, text, root);
  installBootSend(k, inst);
  const spawners = new SpawnerWorld();
  const install = (name: string, main: Program): string => {
    k.programs.register(name, main);
    k.install(`${inst.home}/bin/${name}`, name, { uid: 0, gid: 0, mode: 0o755 });
    return `${inst.home}/bin/${name}`;
  };
  const lspawn = install('sim-fake-lspawn', fakeSpawner(spawners, 'local', opts.local, opts.localSlots));
  const rspawn = opts.remote === 'defer' ? `${inst.home}/bin/qmail-rspawn-defer` : install('sim-fake-rspawn', fakeSpawner(spawners, 'remote', opts.remote, opts.remoteSlots));
  const [uid] = addSubmitters(k, 1);
  const submitted: Submitted[] = [];
  install('sim-submit-mail', async (sys) => {
    const m = submitted[Number(sys.proc.self.argv[1])];
    if (m === undefined) return 100;
    const env = { sender: latin1Bytes(m.sender), recipients: m.recipients.map(latin1Bytes) };
    const r = await queueMessage(sys, m.body, env, { home: inst.home, env: {} });
    return r.status?.code ?? 111;
  });
  return {
    k, inst, spawners, lspawn, rspawn, submitted,
    boot: (env = {}, todoFlags = []) => {
      spawners.epoch++;
      return bootSend(k, inst, { lspawn, rspawn }, env, todoFlags);
    },
    submit: (mail) => {
      const index = submitted.length;
      const handle = k.spawn(`${inst.home}/bin/sim-submit-mail`, ['sim-submit-mail', String(index)], { uid, gid: submitterGid });
      const s: Submitted = { ...mail, index, body: bodyOf(index, mail), handle, code: undefined };
      submitted.push(s);
      void handle.wait().then((st) => (s.code = st.code));
      return s;
    },
  };
}
