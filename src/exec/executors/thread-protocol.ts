import type { ParameterValue } from '../../core/parameters.js';

/** What a worker module gets besides the parameters. */
export interface ThreadJobTools {
  readonly jobId: string;
  /** The job's working directory. */
  readonly workDir: string;
  /** Absolute paths of the job's stored files (file parameters, uploads), by file name. */
  readonly files: Readonly<Record<string, string>>;
  /** Fires when the job is aborted; the thread is terminated after the grace period anyway. */
  readonly signal: AbortSignal;
  /** Stores result `id`; a stream is spooled to disk in the worker, never held whole in memory. */
  writeResult(
    id: string,
    data: string | Uint8Array | AsyncIterable<Uint8Array | string>,
    mediaType: string,
  ): Promise<void>;
  /** Lists a result whose bytes lie at an external URL. */
  linkResult(id: string, href: string, mediaType: string, size?: number): Promise<void>;
  log(message: string): void;
}

/** The default export of a worker module. */
export type ThreadJobFunction = (
  parameters: Readonly<Record<string, ParameterValue | ParameterValue[]>>,
  tools: ThreadJobTools,
) => Promise<void>;

/** workerData of a job thread. */
export interface ThreadStart {
  readonly moduleUrl: string;
  readonly jobId: string;
  readonly workDir: string;
  readonly parameters: Readonly<Record<string, ParameterValue | ParameterValue[]>>;
  readonly files: Readonly<Record<string, string>>;
}

/** Prefix of the temporary files a worker spools streamed results to, in the job's directory. */
export const THREAD_TEMP_PREFIX = '.thread-';

export type WorkerMessage =
  | { type: 'result'; seq: number; id: string; mediaType: string; data: string | Uint8Array }
  | { type: 'result-file'; seq: number; id: string; mediaType: string; path: string }
  | { type: 'link'; seq: number; id: string; href: string; mediaType: string; size?: number }
  | { type: 'log'; message: string }
  | { type: 'done' }
  | { type: 'failed'; message: string; stack?: string };

export type ParentMessage = { type: 'ack'; seq: number; error?: string } | { type: 'abort'; reason: string };
