import type { Job, JobSummary } from '../core/job.js';
import { formatInstant, formatOptionalInstant } from '../core/time.js';
import { parameterViews, resultViews } from './views.js';

/**
 * JSON renderings of the UWS documents, served for `Accept: application/json`
 * (XML stays the default, HTTP-8). The shape mirrors the XML element for element,
 * with the same names and the same time strings; absent values are null:
 *
 *   job:        { "version": "1.1", "jobId", "href", "runId": s|null, "ownerId": s|null,
 *                 "phase", "quote": t|null, "creationTime": t, "startTime": t|null,
 *                 "endTime": t|null, "executionDuration": n, "destruction": t|null,
 *                 "parameters": [parameter], "results": [result],
 *                 "errorSummary": { "type", "hasDetail", "message" } | null,
 *                 "jobInfo": { name: value } | null }
 *   job list:   { "version": "1.1", "jobs": [ { "id", "href", "phase", "runId": s|null,
 *                 "ownerId": s|null, "creationTime": t } ] }
 *   results:    { "results": [ { "id", "href", "size": n|null, "mimeType" } ] }
 *   parameters: { "parameters": [ { "id", "value", "byReference": b } ] }
 *
 * t is an ISO 8601 UTC instant with milliseconds and `Z`. Values go inline in
 * JSON (it can carry any string); only file-valued parameters are by reference,
 * their value being the absolute URL of the content.
 */
export const JSON_MEDIA_TYPE = 'application/json; charset=utf-8';

export function jobJson(job: Job, jobUrl: string): string {
  return JSON.stringify({
    version: '1.1',
    jobId: job.jobId,
    href: jobUrl,
    runId: job.runId,
    ownerId: job.ownerId,
    phase: job.phase,
    quote: job.quote === null ? null : formatInstant(job.quote),
    creationTime: formatInstant(job.creationTime),
    startTime: formatOptionalInstant(job.startTime) || null,
    endTime: formatOptionalInstant(job.endTime) || null,
    executionDuration: job.executionDuration,
    destruction: job.destruction === null ? null : formatInstant(job.destruction),
    parameters: parameterViews(job.parameters, jobUrl, false),
    results: resultViews(job.results, jobUrl),
    errorSummary: job.errorSummary
      ? {
          type: job.errorSummary.type,
          hasDetail: job.errorSummary.hasDetail,
          message: job.errorSummary.message,
        }
      : null,
    jobInfo: job.jobInfo,
  });
}

export function resultsJson(job: Job, jobUrl: string): string {
  return JSON.stringify({ results: resultViews(job.results, jobUrl) });
}

export function parametersJson(job: Job, jobUrl: string): string {
  return JSON.stringify({ parameters: parameterViews(job.parameters, jobUrl, false) });
}

export function jobrefJson(summary: JobSummary, listUrl: string, index: number): string {
  const entry = JSON.stringify({
    id: summary.jobId,
    href: `${listUrl}/${encodeURIComponent(summary.jobId)}`,
    phase: summary.phase,
    runId: summary.runId,
    ownerId: summary.ownerId,
    creationTime: formatInstant(summary.creationTime),
  });
  return index === 0 ? `\n${entry}` : `,\n${entry}`;
}

export const JOBS_JSON_HEAD = '{"version":"1.1","jobs":[';
export const JOBS_JSON_TAIL = ']}\n';
