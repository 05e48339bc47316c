import type { Readable } from 'node:stream';
import type { ErrorSummary, Job, JobResult } from '../core/job.js';
import type { ParameterValue } from '../core/parameters.js';

/** Where an executor writes results: bytes go to the job's working directory, the entry to the store. */
export interface ResultWriter {
  /**
   * Writes (or replaces) the result `id`. Streams go straight to disk, never whole
   * into memory. The result is listed as soon as this resolves (results may appear
   * while EXECUTING, OBJ-9).
   */
  write(id: string, data: string | Uint8Array | Readable, mediaType: string): Promise<JobResult>;
  /** Lists a result whose bytes lie elsewhere (an external URL). */
  link(id: string, href: string, mediaType: string, size?: number): Promise<JobResult>;
}

export interface ExecutionContext {
  readonly job: Job;
  /** Decoded parameters by declared name, defaults filled in; multi-valued ones as arrays. */
  readonly parameters: Readonly<Record<string, ParameterValue | ParameterValue[]>>;
  /** The job's own directory: uploads are here, results are written here. */
  readonly workDir: string;
  /** Fires on abort, on executionDuration overrun and on shutdown. */
  readonly signal: AbortSignal;
  readonly results: ResultWriter;
  readonly log: (message: string) => void;
}

/** How a run ended, as the executor saw it. The scheduler turns it into a phase change. */
export type ExecutionOutcome =
  | { readonly status: 'completed' }
  | { readonly status: 'error'; readonly summary: ErrorSummary; readonly detail?: string }
  | { readonly status: 'aborted'; readonly reason: string };

/** Runs one job to its end. Must stop promptly (and leave no process or thread behind) once `signal` fires. */
export interface Executor {
  readonly kind: 'in-process' | 'command' | 'thread';
  execute(context: ExecutionContext): Promise<ExecutionOutcome>;
}
