// The entry of a job thread: loads the worker module and runs its default export,
// passing results and log lines to the parent thread (see thread.ts).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { NEW_FILE_FLAGS, openNoFollow } from '../../results/workdirs.js';
import {
  type ParentMessage,
  THREAD_TEMP_PREFIX,
  type ThreadJobTools,
  type ThreadStart,
  type WorkerMessage,
} from './thread-protocol.js';

if (!parentPort) throw new Error('thread-worker runs only inside a worker thread');
const port = parentPort;
const start = workerData as ThreadStart;
const controller = new AbortController();
const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
let lastSeq = 0;

port.on('message', (message: ParentMessage) => {
  if (message.type === 'abort') {
    controller.abort(new Error(message.reason));
    return;
  }
  const waiter = waiting.get(message.seq);
  waiting.delete(message.seq);
  if (message.error === undefined) waiter?.resolve();
  else waiter?.reject(new Error(message.error));
});

type Request = WorkerMessage extends infer M ? (M extends { seq: number } ? Omit<M, 'seq'> : never) : never;

function request(message: Request): Promise<void> {
  const seq = ++lastSeq;
  return new Promise((resolve, reject) => {
    waiting.set(seq, { resolve, reject });
    port.postMessage({ ...message, seq } as WorkerMessage);
  });
}

const tools: ThreadJobTools = {
  jobId: start.jobId,
  workDir: start.workDir,
  files: start.files,
  signal: controller.signal,
  async writeResult(id, data, mediaType) {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await request({ type: 'result', id, mediaType, data });
      return;
    }
    const temp = path.join(start.workDir, `${THREAD_TEMP_PREFIX}${randomBytes(12).toString('hex')}`);
    try {
      const handle = await openNoFollow(temp, NEW_FILE_FLAGS, 0o600);
      await pipeline(data, handle.createWriteStream());
    } catch (e) {
      await fs.rm(temp, { force: true });
      throw e;
    }
    // The parent moves the file into place (or removes it if the result is refused).
    await request({ type: 'result-file', id, mediaType, path: temp });
  },
  async linkResult(id, href, mediaType, size) {
    await request({ type: 'link', id, href, mediaType, ...(size === undefined ? {} : { size }) });
  },
  log(message) {
    port.postMessage({ type: 'log', message: String(message) } satisfies WorkerMessage);
  },
};

try {
  const loaded = (await import(start.moduleUrl)) as { default?: unknown };
  if (typeof loaded.default !== 'function') {
    throw new Error(`${start.moduleUrl} has no default export that is a function`);
  }
  await loaded.default(start.parameters, tools);
  port.postMessage({ type: 'done' } satisfies WorkerMessage);
} catch (e) {
  const failure: WorkerMessage =
    e instanceof Error
      ? { type: 'failed', message: e.message, ...(e.stack ? { stack: e.stack } : {}) }
      : { type: 'failed', message: String(e) };
  port.postMessage(failure);
}
