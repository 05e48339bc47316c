import { BadRequestError } from '../core/errors.js';
import { isWellFormedJobId } from '../core/ids.js';
import type { JobSummary } from '../core/job.js';
import { isPhase, PHASES, type Phase } from '../core/phases.js';
import { formatInstant, parseInstant } from '../core/time.js';
import type { JobType } from '../exec/job-type.js';
import type { JobListFilter } from '../store/types.js';
import { renderCreateForm } from './forms.js';
import { html } from './html.js';
import { page } from './layout.js';

/** Jobs per page when the client gives no LAST. */
export const PAGE_SIZE = 50;

/** Where the list stands: the query of the page, parsed. */
export interface JobListQuery {
  readonly phases: readonly Phase[];
  readonly after?: number;
  readonly last?: number;
  /** Keyset cursor: only jobs older than this one in list order (newest first). */
  readonly before?: { readonly creationTime: number; readonly jobId: string };
}

export interface JobListPageInput {
  readonly jobType: JobType;
  readonly rootUrl: string;
  readonly listUrl: string;
  readonly query: JobListQuery;
  /** At most one page of jobs, newest first. */
  readonly jobs: readonly JobSummary[];
  /** There are older jobs than the last one shown. */
  readonly more: boolean;
}

/**
 * The page's filter from the query string: PHASE (repeatable), AFTER and LAST as
 * for the XML list (JL-GET-5..8), plus BEFORE=`instant,jobId`, the keyset cursor
 * of the "older jobs" link.
 */
export function parseJobListQuery(query: readonly { name: string; value: string }[]): JobListQuery {
  const values = (name: string) => query.filter((p) => p.name.toUpperCase() === name).map((p) => p.value);
  const phases: Phase[] = [];
  for (const v of values('PHASE')) {
    const phase = v.trim().toUpperCase();
    if (!isPhase(phase)) throw new BadRequestError(`PHASE=${v.slice(0, 40)} is not a UWS phase`, 'PHASE');
    if (!phases.includes(phase)) phases.push(phase);
  }
  const afterText = values('AFTER')[0];
  const lastText = values('LAST')[0];
  const beforeText = values('BEFORE')[0];
  let last: number | undefined;
  if (lastText !== undefined) {
    if (!/^\+?\d{1,15}$/.test(lastText.trim()) || Number(lastText) < 1)
      throw new BadRequestError(`LAST=${lastText.slice(0, 40)} is not an integer greater than 0`, 'LAST');
    last = Number(lastText);
  }
  let before: JobListQuery['before'];
  if (beforeText !== undefined) {
    const comma = beforeText.lastIndexOf(',');
    const jobId = beforeText.slice(comma + 1);
    if (comma < 0 || !isWellFormedJobId(jobId))
      throw new BadRequestError('BEFORE must be instant,jobId as in the "older jobs" link', 'BEFORE');
    before = { creationTime: parseInstant(beforeText.slice(0, comma), 'BEFORE'), jobId };
  }
  return {
    phases,
    ...(afterText !== undefined ? { after: parseInstant(afterText, 'AFTER') } : {}),
    ...(last !== undefined ? { last } : {}),
    ...(before ? { before } : {}),
  };
}

/**
 * The store filter for one page, and how many jobs to read: LAST as given, else
 * keyset pages of PAGE_SIZE, reading one more to know whether there are older jobs.
 */
export function listFilter(
  jobType: string,
  q: JobListQuery,
): { filter: Omit<JobListFilter, 'ownerId'>; limit: number } {
  return {
    filter: {
      jobType,
      ...(q.phases.length ? { phases: q.phases } : {}),
      ...(q.after !== undefined ? { after: q.after } : {}),
      ...(q.last !== undefined ? { last: q.last } : {}),
      ...(q.before && q.last === undefined ? { before: q.before } : {}),
    },
    limit: q.last ?? PAGE_SIZE + 1,
  };
}

function queryString(pairs: readonly (readonly [string, string])[]): string {
  return pairs.length
    ? `?${new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, v])).toString()}`
    : '';
}

/**
 * The job list of one job type (UWS 1.1 sec. 2.2.1.1) for a person: phase filter
 * checkboxes, the jobs newest first in pages, and the form that creates a job.
 */
export function renderJobListPage(input: JobListPageInput): string {
  const { jobType, listUrl, query, jobs } = input;
  const filterPairs: [string, string][] = [
    ...query.phases.map((p): [string, string] => ['PHASE', p]),
    ...(query.after !== undefined ? [['AFTER', formatInstant(query.after)] as [string, string]] : []),
  ];
  const oldest = jobs[jobs.length - 1];
  const older =
    input.more && oldest
      ? `${listUrl}${queryString([...filterPairs, ['BEFORE', `${formatInstant(oldest.creationTime)},${oldest.jobId}`]])}`
      : null;
  const newest = query.before ? `${listUrl}${queryString(filterPairs)}` : null;
  const checkboxes = PHASES.map(
    (p, i) =>
      html`<label for="phase-${i}"><input type="checkbox" id="phase-${i}" name="PHASE" value="${p}"${query.phases.includes(p) ? html` checked="checked"` : ''} /> ${p}</label> `,
  );
  const rows = jobs.map(
    (j) => html`<tr>
<td><a href="${listUrl}/${encodeURIComponent(j.jobId)}"><code>${j.jobId}</code></a></td>
<td>${j.runId ?? ''}</td>
<td>${j.phase}</td>
<td><time datetime="${formatInstant(j.creationTime)}">${formatInstant(j.creationTime)}</time></td>
<td>${j.ownerId ?? 'anonymous'}</td>
</tr>`,
  );
  const filtered = query.phases.length > 0 || query.after !== undefined;
  return page({
    title: `${jobType.name} jobs`,
    rootUrl: input.rootUrl,
    trail: [['Job types', `${input.rootUrl}/`]],
    body: html`<h1>${jobType.name} jobs</h1>
${jobType.description ? html`<p>${jobType.description}</p>` : ''}
<section aria-labelledby="list-heading">
<h2 id="list-heading">Jobs</h2>
<form method="get" action="${listUrl}" class="filter">
<fieldset class="phases"><legend>Show jobs in these phases (none ticked: all but ARCHIVED)</legend>
${checkboxes}
</fieldset>
${query.last !== undefined ? html`<input type="hidden" name="LAST" value="${query.last}" />` : ''}
<button type="submit">Filter</button>
</form>
${
  rows.length === 0
    ? html`<p>${filtered ? 'No jobs match this filter.' : 'No jobs yet.'}</p>`
    : html`<table>
<caption class="hint">${query.last !== undefined ? `The ${query.last} most recent jobs` : 'Newest first'}</caption>
<thead><tr><th scope="col">Job</th><th scope="col">RUNID</th><th scope="col">Phase</th><th scope="col">Created</th><th scope="col">Owner</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}
<nav class="paging" aria-label="Pages">${newest ? html`<a href="${newest}">Newest jobs</a>` : ''}${older ? html`<a href="${older}" rel="next">Older jobs</a>` : ''}</nav>
</section>
${renderCreateForm(jobType, listUrl)}`,
  });
}
