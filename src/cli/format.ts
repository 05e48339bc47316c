import type { Job, JobSummary } from '../core/job.js';
import { formatInstant } from '../core/time.js';

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

const instant = (ms: number | null) => (ms === null ? null : formatInstant(ms));

/** A summary as JSON: instants in the one UTC serialisation. */
export function summaryJson(job: JobSummary): Record<string, unknown> {
  return {
    jobId: job.jobId,
    jobType: job.jobType,
    phase: job.phase,
    runId: job.runId,
    ownerId: job.ownerId,
    creationTime: formatInstant(job.creationTime),
  };
}

/** A whole job as JSON, for `jobs show --json`: every UWS property, instants as ISO text. */
export function jobJson(job: Job): Record<string, unknown> {
  return {
    jobId: job.jobId,
    jobType: job.jobType,
    runId: job.runId,
    ownerId: job.ownerId,
    phase: job.phase,
    quote: instant(job.quote),
    creationTime: formatInstant(job.creationTime),
    startTime: instant(job.startTime),
    endTime: instant(job.endTime),
    executionDuration: job.executionDuration,
    destruction: instant(job.destruction),
    parameters: job.parameters,
    results: job.results,
    errorSummary: job.errorSummary,
    jobInfo: job.jobInfo,
    lease: job.lease ? { nodeId: job.lease.nodeId, expiresAt: formatInstant(job.lease.expiresAt) } : null,
    version: job.version,
  };
}

/** Column widths of the job table; the id column fits the 22-character ids this service makes. */
export function summaryTable(typeWidth: number): { header: string; row: (job: JobSummary) => string } {
  const line = (id: string, phase: string, type: string, created: string, owner: string, runId: string) =>
    `${id.padEnd(22)}  ${phase.padEnd(9)}  ${type.padEnd(typeWidth)}  ${created.padEnd(24)}  ${owner}${
      runId ? `  ${runId}` : ''
    }`.trimEnd();
  return {
    header: line('JOB ID', 'PHASE', 'TYPE', 'CREATED', 'OWNER', 'RUNID'),
    row: (job) =>
      line(
        job.jobId,
        job.phase,
        job.jobType,
        formatInstant(job.creationTime),
        job.ownerId ?? '-',
        job.runId ?? '',
      ),
  };
}

/** A job for people: one property per line, then parameters, results and the error. */
export function jobText(
  job: Job,
  resultPath: (fileName: string) => string | null,
  errorDetail: string | null = null,
): string {
  const lines: string[] = [];
  const field = (name: string, value: string | number | null) =>
    lines.push(`${`${name}:`.padEnd(19)} ${value === null || value === '' ? '-' : value}`);
  field('jobId', job.jobId);
  field('jobType', job.jobType);
  field('phase', job.phase);
  field('runId', job.runId);
  field('ownerId', job.ownerId ?? '(anonymous)');
  field('creationTime', formatInstant(job.creationTime));
  field('startTime', instant(job.startTime));
  field('endTime', instant(job.endTime));
  field('executionDuration', job.executionDuration === 0 ? '0 (unlimited)' : `${job.executionDuration} s`);
  field('destruction', instant(job.destruction));
  field('quote', instant(job.quote));
  if (job.lease) field('lease', `${job.lease.nodeId} until ${formatInstant(job.lease.expiresAt)}`);
  if (job.errorSummary) field('error', `${job.errorSummary.type}: ${job.errorSummary.message}`);
  lines.push(`parameters (${job.parameters.length}):`);
  for (const p of job.parameters) {
    const file = p.file ? `  [file ${p.file.fileName}, ${formatBytes(p.file.size)}]` : '';
    lines.push(`  ${p.name} = ${p.value.length > 200 ? `${p.value.slice(0, 197)}...` : p.value}${file}`);
  }
  lines.push(`results (${job.results.length}):`);
  for (const r of job.results) {
    const size = r.size === null ? '?' : formatBytes(r.size);
    const where = r.href ?? (r.fileName ? resultPath(r.fileName) : null) ?? '';
    lines.push(`  ${r.id}  ${r.mediaType}  ${size}${where ? `  ${where}` : ''}`);
  }
  if (job.jobInfo) {
    lines.push('jobInfo:');
    for (const [k, v] of Object.entries(job.jobInfo)) lines.push(`  ${k} = ${v}`);
  }
  if (errorDetail) {
    lines.push('error detail:');
    for (const line of errorDetail.trimEnd().split('\n')) lines.push(`  ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `postgres://user:secret@host/db` -> `postgres://user:***@host/db`: output ends up in logs and tickets. */
export function redactPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}
