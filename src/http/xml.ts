import type { Job, JobSummary } from '../core/job.js';
import { XS_INT_MAX } from '../core/job.js';
import { formatInstant } from '../core/time.js';
import { type ParameterView, parameterViews, type ResultView, resultViews } from './views.js';
import { escapeAttribute, escapeText, isSimpleElementName } from './xml-text.js';

/**
 * The UWS 1.1 XML documents (App. B; checklist sec. 15). The namespace stays
 * .../UWS/v1.0 for 1.1 (XML-1); `version="1.1"` goes on job and jobs only
 * (XML-6); children follow the schema's sequences (XML-4, XML-5); absent
 * values are xsi:nil (XML-7); all times come from formatInstant, the same
 * function the text endpoints use (TIME-4).
 */

export const UWS_NS = 'http://www.ivoa.net/xml/UWS/v1.0';
export const XLINK_NS = 'http://www.w3.org/1999/xlink';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const XML_MEDIA_TYPE = 'text/xml; charset=utf-8';

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NAMESPACES = `xmlns:uws="${UWS_NS}" xmlns:xlink="${XLINK_NS}" xmlns:xsi="${XSI_NS}"`;

function element(name: string, value: string): string {
  return `<uws:${name}>${escapeText(value)}</uws:${name}>`;
}

function nillable(name: string, value: string | null): string {
  return value === null ? `<uws:${name} xsi:nil="true"/>` : element(name, value);
}

function instant(name: string, ms: number | null): string {
  return nillable(name, ms === null ? null : formatInstant(ms));
}

function parameterElements(views: readonly ParameterView[], indent: string): string {
  return views
    .map(
      (v) =>
        `${indent}<uws:parameter id="${escapeAttribute(v.id)}"${v.byReference ? ' byReference="true"' : ''}>${escapeText(v.value)}</uws:parameter>\n`,
    )
    .join('');
}

function resultElements(views: readonly ResultView[], indent: string): string {
  return views
    .map((v) => {
      const size = v.size !== null && Number.isSafeInteger(v.size) && v.size >= 0 ? ` size="${v.size}"` : '';
      const mime = v.mimeType ? ` mime-type="${escapeAttribute(v.mimeType)}"` : '';
      return `${indent}<uws:result id="${escapeAttribute(v.id)}" xlink:type="simple" xlink:href="${escapeAttribute(v.href)}"${size}${mime}/>\n`;
    })
    .join('');
}

/** `<uws:jobInfo>` children: one element per entry, named after the key when that is a plain XML name. */
function jobInfoElement(info: Readonly<Record<string, string>>): string {
  const entries = Object.entries(info);
  if (entries.length === 0) return '  <uws:jobInfo/>\n';
  const children = entries
    .map(([key, value]) =>
      isSimpleElementName(key)
        ? `    <${key}>${escapeText(value)}</${key}>\n`
        : `    <entry name="${escapeAttribute(key)}">${escapeText(value)}</entry>\n`,
    )
    .join('');
  return `  <uws:jobInfo>\n${children}  </uws:jobInfo>\n`;
}

/** The job document served at /{jobs}/{job-id} (JOB-GET-1, XML-4). */
export function jobXml(job: Job, jobUrl: string): string {
  const params = parameterViews(job.parameters, jobUrl, true);
  const results = resultViews(job.results, jobUrl);
  const duration = Math.max(0, Math.min(XS_INT_MAX, Math.trunc(job.executionDuration)));
  let out = `${DECLARATION}<uws:job ${NAMESPACES} version="1.1">\n`;
  out += `  ${element('jobId', job.jobId)}\n`;
  if (job.runId !== null) out += `  ${element('runId', job.runId)}\n`;
  out += `  ${nillable('ownerId', job.ownerId)}\n`;
  out += `  ${element('phase', job.phase)}\n`;
  out += `  ${instant('quote', job.quote)}\n`;
  out += `  ${instant('creationTime', job.creationTime)}\n`;
  out += `  ${instant('startTime', job.startTime)}\n`;
  out += `  ${instant('endTime', job.endTime)}\n`;
  out += `  ${element('executionDuration', String(duration))}\n`;
  out += `  ${instant('destruction', job.destruction)}\n`;
  out += params.length
    ? `  <uws:parameters>\n${parameterElements(params, '    ')}  </uws:parameters>\n`
    : '  <uws:parameters/>\n';
  out += results.length
    ? `  <uws:results>\n${resultElements(results, '    ')}  </uws:results>\n`
    : '  <uws:results/>\n';
  if (job.errorSummary) {
    const { type, hasDetail, message } = job.errorSummary;
    out += `  <uws:errorSummary type="${type === 'transient' ? 'transient' : 'fatal'}" hasDetail="${hasDetail ? 'true' : 'false'}">\n`;
    out += `    ${element('message', message)}\n  </uws:errorSummary>\n`;
  }
  if (job.jobInfo) out += jobInfoElement(job.jobInfo);
  return `${out}</uws:job>\n`;
}

/** The results list served at /{jobs}/{job-id}/results (RES-1..4). No version attribute (XML-6). */
export function resultsXml(job: Job, jobUrl: string): string {
  const results = resultViews(job.results, jobUrl);
  return `${DECLARATION}<uws:results ${NAMESPACES}>\n${resultElements(results, '  ')}</uws:results>\n`;
}

/** The parameter list served at /{jobs}/{job-id}/parameters (PAR-1, PAR-2). */
export function parametersXml(job: Job, jobUrl: string): string {
  const params = parameterViews(job.parameters, jobUrl, true);
  return `${DECLARATION}<uws:parameters ${NAMESPACES}>\n${parameterElements(params, '  ')}</uws:parameters>\n`;
}

/** One `<uws:jobref>` of the job list (JL-GET-1, XML-5, JL-GET-14). */
export function jobrefXml(summary: JobSummary, listUrl: string): string {
  const href = `${listUrl}/${encodeURIComponent(summary.jobId)}`;
  let out = `  <uws:jobref id="${escapeAttribute(summary.jobId)}" xlink:type="simple" xlink:href="${escapeAttribute(href)}">\n`;
  out += `    ${element('phase', summary.phase)}\n`;
  if (summary.runId !== null) out += `    ${element('runId', summary.runId)}\n`;
  out += `    ${nillable('ownerId', summary.ownerId)}\n`;
  out += `    ${instant('creationTime', summary.creationTime)}\n`;
  return `${out}  </uws:jobref>\n`;
}

export const JOBS_XML_HEAD = `${DECLARATION}<uws:jobs ${NAMESPACES} version="1.1">\n`;
export const JOBS_XML_TAIL = '</uws:jobs>\n';
