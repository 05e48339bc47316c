import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { canAdoptFiles } from '../../results/result-files.js';
import type { ExecutionContext, ExecutionOutcome, Executor, ResultWriter } from '../types.js';
import { abortedOutcome, COMPLETED, closableWriter, errorOutcome, thrownOutcome } from './outcomes.js';
import { THREAD_TEMP_PREFIX, type ThreadStart, type WorkerMessage } from './thread-protocol.js';

export type { ThreadJobFunction, ThreadJobTools } from './thread-protocol.js';

export interface ThreadExecutorOptions {
  /**
   * The worker module: a path or a file: URL of an ES module whose default
   * export is a ThreadJobFunction `(parameters, tools) => Promise<void>`.
   * A .ts module works when tsx is installed (as in development and tests).
   */
  readonly module: string | URL;
  /** After an abort, how long the module may take to stop on its own before terminate(). Default 1000 ms. */
  readonly gracePeriodMs?: number;
  /** Memory limits of the thread (an out-of-memory thread ends the job in ERROR). */
  readonly resourceLimits?: ResourceLimits;
}

export const DEFAULT_THREAD_GRACE_MS = 1_000;

// Under tsx this file is thread.ts and its sibling thread-worker.ts; once built, both are .js.
const OWN_EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const WORKER_ENTRY = new URL(`./thread-worker${OWN_EXTENSION}`, import.meta.url).href;

/**
 * Runs job code in a worker thread, for CPU-bound JavaScript that must not
 * block the server. On abort the module's `tools.signal` fires; if the thread
 * has not ended after the grace period it is terminated, which stops even a
 * busy loop. The run ends only when the thread is gone.
 */
export function threadExecutor(options: ThreadExecutorOptions): Executor {
  const moduleUrl = toModuleUrl(options.module);
  const grace = options.gracePeriodMs ?? DEFAULT_THREAD_GRACE_MS;
  return {
    kind: 'thread',
    execute: (context) => runThread(context, moduleUrl, grace, options.resourceLimits),
  };
}

async function runThread(
  context: ExecutionContext,
  moduleUrl: string,
  grace: number,
  resourceLimits: ResourceLimits | undefined,
): Promise<ExecutionOutcome> {
  const { signal } = context;
  if (signal.aborted) return abortedOutcome(signal);
  let code: string;
  try {
    code = bootstrapCode(moduleUrl);
  } catch (e) {
    return thrownOutcome(e);
  }
  const files: Record<string, string> = {};
  for (const p of context.job.parameters) {
    if (p.file) files[p.file.fileName] = path.join(context.workDir, p.file.fileName);
  }
  const start: ThreadStart = {
    moduleUrl,
    jobId: context.job.jobId,
    workDir: context.workDir,
    parameters: context.parameters,
    files,
  };
  const results = closableWriter(context.results);
  const worker = new Worker(code, {
    eval: true,
    workerData: start,
    ...(resourceLimits ? { resourceLimits } : {}),
  });

  return new Promise<ExecutionOutcome>((resolve) => {
    // The first outcome decided wins; it is reported once the thread is gone.
    let decided: ExecutionOutcome | undefined;
    const writes = new Set<Promise<void>>();
    let killTimer: NodeJS.Timeout | undefined;
    const end = (outcome: ExecutionOutcome): void => {
      decided ??= outcome;
      void worker.terminate();
    };
    const onAbort = (): void => {
      decided ??= abortedOutcome(signal);
      worker.postMessage({
        type: 'abort',
        reason: decided.status === 'aborted' ? decided.reason : 'aborted',
      });
      killTimer = setTimeout(() => void worker.terminate(), grace);
    };

    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'log':
          context.log(message.message);
          return;
        case 'done':
          void Promise.allSettled(writes).then(() => end(COMPLETED));
          return;
        case 'failed':
          end(errorOutcome(message.message, message.stack));
          return;
        default: {
          const seq = message.seq;
          const write = storeResult(results.writer, context.workDir, message).then(
            () => worker.postMessage({ type: 'ack', seq }),
            (e: unknown) =>
              worker.postMessage({ type: 'ack', seq, error: e instanceof Error ? e.message : String(e) }),
          );
          writes.add(write);
          void write.finally(() => writes.delete(write));
        }
      }
    });
    worker.on('error', (e) => end(thrownOutcome(e)));
    worker.once('exit', (exitCode) => {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      void Promise.allSettled(writes).then(() => {
        results.close();
        resolve(decided ?? errorOutcome(`the worker thread exited with code ${exitCode} before finishing`));
      });
    });
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
  });
}

async function storeResult(
  writer: ResultWriter,
  workDir: string,
  message: Exclude<WorkerMessage, { type: 'log' | 'done' | 'failed' }>,
): Promise<void> {
  if (message.type === 'result') {
    await writer.write(message.id, message.data, message.mediaType);
    return;
  }
  if (message.type === 'link') {
    await writer.link(message.id, message.href, message.mediaType, message.size);
    return;
  }
  // Only the worker's own spool files, in the job's directory, are taken.
  const temp = path.resolve(message.path);
  if (path.dirname(temp) !== path.resolve(workDir) || !path.basename(temp).startsWith(THREAD_TEMP_PREFIX)) {
    throw new Error(`${message.path} is not a spooled result of this job`);
  }
  try {
    if (canAdoptFiles(writer)) {
      await writer.adoptFile(message.id, temp, message.mediaType);
    } else {
      const handle = await fs.open(temp, 'r');
      await writer.write(message.id, handle.createReadStream(), message.mediaType);
    }
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/** The worker's entry, as eval'd code: it can then register tsx before loading TypeScript. */
function bootstrapCode(moduleUrl: string): string {
  const entry = JSON.stringify(WORKER_ENTRY);
  const needsTsx = OWN_EXTENSION === '.ts' || /\.[cm]?tsx?$/.test(new URL(moduleUrl).pathname);
  if (!needsTsx) return `import(${entry});`;
  let tsx: string;
  try {
    tsx = import.meta.resolve('tsx/esm/api');
  } catch {
    throw new Error(`the worker module ${moduleUrl} is TypeScript: install tsx or give the built .js module`);
  }
  // Loader hooks of the main thread do not reach worker threads on Node 20, so tsx is registered here.
  return `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${entry}); });`;
}

function toModuleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  // A scheme of two or more letters (file:, data:); a single letter is a Windows drive.
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(module)) return new URL(module).href;
  return pathToFileURL(path.resolve(module)).href;
}
