import type { Job, JobParameter, JobResult, JobSummary } from '../core/job.js';
import type { Phase } from '../core/phases.js';
import type { JobPatch } from './types.js';

/** The columns of a stored job, as both stores' drivers return them (booleans aside). */
export interface JobColumns {
  job_id: string;
  job_type: string;
  run_id: string | null;
  owner_id: string | null;
  phase: Phase;
  quote: number | null;
  creation_time: number;
  start_time: number | null;
  end_time: number | null;
  execution_duration: number;
  destruction: number | null;
  parameters: string;
  job_info: string | null;
  error_type: 'transient' | 'fatal' | null;
  error_message: string | null;
  lease_node: string | null;
  lease_expires: number | null;
  version: number;
}

export type SummaryColumns = Pick<
  JobColumns,
  'job_id' | 'job_type' | 'run_id' | 'owner_id' | 'phase' | 'creation_time'
>;

export const SUMMARY_COLUMNS = 'job_id, job_type, run_id, owner_id, phase, creation_time';

/** A Job from its row; `hasDetail` is decoded by the caller since SQLite and PostgreSQL spell booleans apart. */
export function jobFromColumns(row: JobColumns, hasDetail: boolean, results: JobResult[]): Job {
  return {
    jobId: row.job_id,
    jobType: row.job_type,
    runId: row.run_id,
    ownerId: row.owner_id,
    phase: row.phase,
    quote: row.quote,
    creationTime: row.creation_time,
    startTime: row.start_time,
    endTime: row.end_time,
    executionDuration: row.execution_duration,
    destruction: row.destruction,
    parameters: JSON.parse(row.parameters) as JobParameter[],
    results,
    errorSummary:
      row.error_type === null ? null : { type: row.error_type, message: row.error_message ?? '', hasDetail },
    jobInfo: row.job_info === null ? null : (JSON.parse(row.job_info) as Record<string, string>),
    lease: row.lease_node === null ? null : { nodeId: row.lease_node, expiresAt: row.lease_expires ?? 0 },
    version: row.version,
  };
}

/** A result entry; optional fields stay absent rather than undefined, so a read equals what was written. */
export function resultFromColumns(
  id: string,
  mediaType: string,
  size: number | null,
  fileName: string | null,
  href: string | null,
): JobResult {
  const result: { -readonly [K in keyof JobResult]: JobResult[K] } = { id, mediaType, size };
  if (fileName !== null) result.fileName = fileName;
  if (href !== null) result.href = href;
  return result;
}

export function summaryFromRow(row: SummaryColumns): JobSummary {
  return {
    jobId: row.job_id,
    jobType: row.job_type,
    runId: row.run_id,
    ownerId: row.owner_id,
    phase: row.phase,
    creationTime: row.creation_time,
  };
}

/**
 * The columns a patch sets, with their values, in one fixed order (so equal
 * patch shapes give equal SQL text, which both stores cache). `bool` encodes
 * booleans the way the database wants them.
 */
export function patchColumns<B>(
  patch: JobPatch,
  bool: (value: boolean) => B,
): [column: string, value: string | number | B | null][] {
  const out: [string, string | number | B | null][] = [];
  if (patch.phase !== undefined) out.push(['phase', patch.phase]);
  if (patch.runId !== undefined) out.push(['run_id', patch.runId]);
  if (patch.quote !== undefined) out.push(['quote', patch.quote]);
  if (patch.startTime !== undefined) out.push(['start_time', patch.startTime]);
  if (patch.endTime !== undefined) out.push(['end_time', patch.endTime]);
  if (patch.executionDuration !== undefined) out.push(['execution_duration', patch.executionDuration]);
  if (patch.destruction !== undefined) out.push(['destruction', patch.destruction]);
  if (patch.parameters !== undefined) out.push(['parameters', JSON.stringify(patch.parameters)]);
  if (patch.errorSummary !== undefined) {
    const summary = patch.errorSummary;
    out.push(['error_type', summary?.type ?? null]);
    out.push(['error_message', summary?.message ?? null]);
    out.push(['error_has_detail', summary === null ? null : bool(summary.hasDetail)]);
  }
  if (patch.errorDetail !== undefined) out.push(['error_detail', patch.errorDetail]);
  if (patch.jobInfo !== undefined) {
    out.push(['job_info', patch.jobInfo === null ? null : JSON.stringify(patch.jobInfo)]);
  }
  if (patch.lease !== undefined) {
    out.push(['lease_node', patch.lease?.nodeId ?? null]);
    out.push(['lease_expires', patch.lease?.expiresAt ?? null]);
  }
  return out;
}
