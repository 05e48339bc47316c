import type { Job, JobResult } from '../../core/job.js';
import {
  type JobColumns,
  jobFromColumns,
  resultFromColumns,
  SUMMARY_COLUMNS,
  type SummaryColumns,
  summaryFromRow,
} from '../rows.js';
import type { NewJob } from '../types.js';

/** A job row as the store's pool returns it (int8 already parsed to number). */
export interface PgJobRow extends JobColumns {
  error_has_detail: boolean | null;
  /** json_agg of [id, media_type, size, file_name, href] in list order; null when none. */
  results: [string, string, number | null, string | null, string | null][] | null;
}

export type PgSummaryRow = SummaryColumns;

const COLUMNS = [
  'job_id',
  'job_type',
  'run_id',
  'owner_id',
  'phase',
  'quote',
  'creation_time',
  'start_time',
  'end_time',
  'execution_duration',
  'destruction',
  'parameters',
  'job_info',
  'error_type',
  'error_message',
  'error_has_detail',
  'lease_node',
  'lease_expires',
  'version',
] as const;

/** Every job column but error_detail (only /error reads it), qualified by `alias`. */
export function jobColumns(alias: string): string {
  return COLUMNS.map((c) => `${alias}.${c}`).join(', ');
}

/**
 * A whole Job in one row: the job's columns plus its results folded into one JSON
 * array, so a read is one round trip and one snapshot.
 */
export function jobSelectList(s: string, alias: string): string {
  return `${jobColumns(alias)},
    (SELECT json_agg(json_build_array(r.id, r.media_type, r.size, r.file_name, r.href) ORDER BY r.ordinal)
       FROM ${s}.results r WHERE r.job_id = ${alias}.job_id) AS results`;
}

export { SUMMARY_COLUMNS, summaryFromRow };

export function jobFromRow(row: PgJobRow): Job {
  return jobFromColumns(
    row,
    row.error_has_detail === true,
    (row.results ?? []).map((r) => resultFromColumns(...r)),
  );
}

/** Values for the INSERT of a new job, in the order of INSERT_COLUMNS. */
export const INSERT_COLUMNS =
  'job_id, job_type, run_id, owner_id, phase, quote, creation_time, execution_duration, destruction, parameters, job_info';

export function newJobValues(job: NewJob): (string | number | null)[] {
  return [
    job.jobId,
    job.jobType,
    job.runId,
    job.ownerId,
    job.phase,
    job.quote,
    job.creationTime,
    job.executionDuration,
    job.destruction,
    JSON.stringify(job.parameters),
    job.jobInfo === null ? null : JSON.stringify(job.jobInfo),
  ];
}

/**
 * The results of one patch as column arrays for unnest(). A batch naming one id
 * twice keeps the first one's place and the last one's content, as applying the
 * results one by one would.
 */
export function resultArrays(results: readonly JobResult[]) {
  const byId = new Map<string, JobResult>();
  for (const result of results) byId.set(result.id, result);
  const unique = [...byId.values()];
  return {
    ids: unique.map((r) => r.id),
    mediaTypes: unique.map((r) => r.mediaType),
    sizes: unique.map((r) => r.size),
    fileNames: unique.map((r) => r.fileName ?? null),
    hrefs: unique.map((r) => r.href ?? null),
  };
}
