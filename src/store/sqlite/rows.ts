import type { Job, JobParameter, JobResult, JobSummary } from '../../core/job.js';
import type { Phase } from '../../core/phases.js';
import type { NewJob } from '../types.js';

/** A row of `jobs` as better-sqlite3 returns it. */
export interface JobRow {
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
  error_has_detail: number | null;
  lease_node: string | null;
  lease_expires: number | null;
  version: number;
}

export interface ResultRow {
  id: string;
  media_type: string;
  size: number | null;
  file_name: string | null;
  href: string | null;
}

export type SummaryRow = Pick<
  JobRow,
  'job_id' | 'job_type' | 'run_id' | 'owner_id' | 'phase' | 'creation_time'
>;

/** Every column of `jobs` but error_detail, which only /error reads. */
export const JOB_COLUMNS = `job_id, job_type, run_id, owner_id, phase, quote, creation_time, start_time, end_time,
  execution_duration, destruction, parameters, job_info, error_type, error_message, error_has_detail,
  lease_node, lease_expires, version`;

export const SUMMARY_COLUMNS = 'job_id, job_type, run_id, owner_id, phase, creation_time';

export function jobFromRows(row: JobRow, results: readonly ResultRow[]): Job {
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
    results: results.map(resultFromRow),
    errorSummary:
      row.error_type === null
        ? null
        : { type: row.error_type, message: row.error_message ?? '', hasDetail: row.error_has_detail === 1 },
    jobInfo: row.job_info === null ? null : (JSON.parse(row.job_info) as Record<string, string>),
    lease: row.lease_node === null ? null : { nodeId: row.lease_node, expiresAt: row.lease_expires ?? 0 },
    version: row.version,
  };
}

function resultFromRow(row: ResultRow): JobResult {
  // Optional fields stay absent rather than undefined, so a read equals what was written.
  const result: { -readonly [K in keyof JobResult]: JobResult[K] } = {
    id: row.id,
    mediaType: row.media_type,
    size: row.size,
  };
  if (row.file_name !== null) result.fileName = row.file_name;
  if (row.href !== null) result.href = row.href;
  return result;
}

export function summaryFromRow(row: SummaryRow): JobSummary {
  return {
    jobId: row.job_id,
    jobType: row.job_type,
    runId: row.run_id,
    ownerId: row.owner_id,
    phase: row.phase,
    creationTime: row.creation_time,
  };
}

/** Named parameters for the INSERT of a new job. */
export function newJobParams(job: NewJob): Record<string, string | number | null> {
  return {
    job_id: job.jobId,
    job_type: job.jobType,
    run_id: job.runId,
    owner_id: job.ownerId,
    phase: job.phase,
    quote: job.quote,
    creation_time: job.creationTime,
    execution_duration: job.executionDuration,
    destruction: job.destruction,
    parameters: JSON.stringify(job.parameters),
    job_info: job.jobInfo === null ? null : JSON.stringify(job.jobInfo),
  };
}
