import type { Job, JobParameter, JobResult, JobSummary } from '../../core/job.js';
import type { Phase } from '../../core/phases.js';
import type { NewJob } from '../types.js';

/** A job row as the store's pool returns it (int8 already parsed to number). */
export interface PgJobRow {
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
  error_has_detail: boolean | null;
  lease_node: string | null;
  lease_expires: number | null;
  version: number;
  /** json_agg of [id, media_type, size, file_name, href] in list order; null when none. */
  results: [string, string, number | null, string | null, string | null][] | null;
}

export interface PgSummaryRow {
  job_id: string;
  job_type: string;
  run_id: string | null;
  owner_id: string | null;
  phase: Phase;
  creation_time: number;
}

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

export const SUMMARY_COLUMNS = 'job_id, job_type, run_id, owner_id, phase, creation_time';

export function jobFromRow(row: PgJobRow): Job {
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
    results: (row.results ?? []).map(resultFromTuple),
    errorSummary:
      row.error_type === null
        ? null
        : {
            type: row.error_type,
            message: row.error_message ?? '',
            hasDetail: row.error_has_detail === true,
          },
    jobInfo: row.job_info === null ? null : (JSON.parse(row.job_info) as Record<string, string>),
    lease: row.lease_node === null ? null : { nodeId: row.lease_node, expiresAt: row.lease_expires ?? 0 },
    version: row.version,
  };
}

function resultFromTuple([id, mediaType, size, fileName, href]: NonNullable<
  PgJobRow['results']
>[number]): JobResult {
  // Optional fields stay absent rather than undefined, so a read equals what was written.
  const result: { -readonly [K in keyof JobResult]: JobResult[K] } = { id, mediaType, size };
  if (fileName !== null) result.fileName = fileName;
  if (href !== null) result.href = href;
  return result;
}

export function summaryFromRow(row: PgSummaryRow): JobSummary {
  return {
    jobId: row.job_id,
    jobType: row.job_type,
    runId: row.run_id,
    ownerId: row.owner_id,
    phase: row.phase,
    creationTime: row.creation_time,
  };
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
