import { canAdoptFiles, type JobResultWriter } from '../../results/result-files.js';
import type { ExecutionOutcome, ResultWriter } from '../types.js';

export const COMPLETED: ExecutionOutcome = { status: 'completed' };

/** The reason an abort signal carries, as text for the outcome. */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message || reason.name;
  if (typeof reason === 'string' && reason !== '') return reason;
  return 'aborted';
}

export function abortedOutcome(signal: AbortSignal): ExecutionOutcome {
  return { status: 'aborted', reason: abortReason(signal) };
}

/** A fatal error outcome; `detail` (a log, a stack) is what /error shows beyond the message. */
export function errorOutcome(message: string, detail?: string): ExecutionOutcome {
  const hasDetail = detail !== undefined && detail !== '' && detail !== message;
  return {
    status: 'error',
    summary: { type: 'fatal', message: message || 'the job failed', hasDetail },
    ...(hasDetail ? { detail } : {}),
  };
}

/** Outcome for an exception thrown by job code: its message, and its stack as detail. */
export function thrownOutcome(e: unknown): ExecutionOutcome {
  if (e instanceof Error) return errorOutcome(e.message, e.stack);
  return errorOutcome(String(e));
}

/**
 * Wraps a writer so that it refuses writes once the run has ended. Job code
 * that ignored its abort signal may still be running (JavaScript cannot be
 * stopped from outside); it must not add results to a job that is over (OBJ-11).
 */
export function closableWriter(writer: ResultWriter): { writer: ResultWriter; close(): void } {
  let open = true;
  const check = (id: string): void => {
    if (!open) throw new Error(`result ${id} refused: the job's run has ended`);
  };
  const guarded: ResultWriter & { adoptFile?: JobResultWriter['adoptFile'] } = {
    async write(id, data, mediaType) {
      check(id);
      return writer.write(id, data, mediaType);
    },
    async link(id, href, mediaType, size) {
      check(id);
      return writer.link(id, href, mediaType, size);
    },
  };
  if (canAdoptFiles(writer)) {
    guarded.adoptFile = async (id, sourcePath, mediaType) => {
      check(id);
      return writer.adoptFile(id, sourcePath, mediaType);
    };
  }
  return {
    writer: guarded,
    close() {
      open = false;
    },
  };
}
