import type { Job } from '../../core/job.js';
import {
  type JobColumns,
  jobFromColumns,
  resultFromColumns,
  SUMMARY_COLUMNS,
  type SummaryColumns,
  summaryFromRow,
} from '../rows.js';
import type { NewJob } from '../types.js';

/** A row of `jobs` as better-sqlite3 returns it. */
export interface JobRow extends JobColumns {
  error_has_detail: number | null;
}

export interface ResultRow {
  id: string;
  media_type: string;
  size: number | null;
  file_name: string | null;
  href: string | null;
}

export type SummaryRow = SummaryColumns;

/** Every column of `jobs` but error_detail, which only /error reads. */
export const JOB_COLUMNS = `job_id, job_type, run_id, owner_id, phase, quote, creation_time, start_time, end_time,
  execution_duration, destruction, parameters, job_info, error_type, error_message, error_has_detail,
  lease_node, lease_expires, version`;

export { SUMMARY_COLUMNS, summaryFromRow };

export function jobFromRows(row: JobRow, results: readonly ResultRow[]): Job {
  return jobFromColumns(
    row,
    row.error_has_detail === 1,
    results.map((r) => resultFromColumns(r.id, r.media_type, r.size, r.file_name, r.href)),
  );
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
