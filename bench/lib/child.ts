import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A benchmark process (server) under remote control: the child runs on its own
 * core-share and event loop, so client and server never share a loop. Commands go
 * over the IPC channel: `call(cmd, args)` resolves with what the child's handler returned.
 */
export interface Controlled {
  readonly child: ChildProcess;
  /** What the child announced when it was ready (its URL, say). */
  readonly ready: Record<string, unknown>;
  call<T = unknown>(cmd: string, args?: unknown): Promise<T>;
  /** Asks the child to stop, then waits for it to exit (killing it after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

export async function startControlled(
  script: string,
  args: string[],
  options: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<Controlled> {
  const child = fork(script, args, {
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Record<string, unknown>));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  child.on('message', (m) => {
    const reply = m as Reply;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(new Error(reply.error));
  });
  child.once('exit', (code) => {
    for (const w of pending.values()) w.reject(new Error(`${script} exited (${code})`));
    pending.clear();
  });
  return {
    child,
    ready,
    call<T>(cmd: string, callArgs?: unknown): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, cmd, args: callArgs });
      });
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null) return;
      child.send({ id: 0, cmd: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The child side: announces readiness, then serves commands until 'exit'. */
export function serveCommands(
  ready: Record<string, unknown>,
  handlers: Record<string, (args: unknown) => unknown | Promise<unknown>>,
  onExit: () => Promise<void>,
): void {
  process.on('message', (m) => {
    const { id, cmd, args } = m as { id: number; cmd: string; args: unknown };
    if (cmd === 'exit') {
      void onExit().finally(() => process.exit(0));
      return;
    }
    const handler = handlers[cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${cmd}`);
        return handler(args);
      })
      .then(
        (value) => process.send?.({ id, ok: true, value }),
        (err: unknown) => process.send?.({ id, ok: false, error: (err as Error).stack ?? String(err) }),
      );
  });
  process.send?.(ready);
}
