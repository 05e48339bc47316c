import type { Job } from '../core/job.js';
import type { Phase } from '../core/phases.js';
import { formatInstant } from '../core/time.js';
import type { JobType } from '../exec/job-type.js';
import { parameterViews, resultViews } from '../http/views.js';
import { formatDuration, formatSize } from './format.js';
import { type Html, html } from './html.js';
import { page } from './layout.js';

export interface JobPageInput {
  readonly job: Job;
  readonly jobType: JobType;
  readonly rootUrl: string;
  readonly listUrl: string;
  readonly jobUrl: string;
}

/** Which phases each action applies in; the script shows and hides the forms as the phase moves. */
const RUNNABLE: readonly Phase[] = ['PENDING', 'HELD'];
const ABORTABLE: readonly Phase[] = ['PENDING', 'QUEUED', 'EXECUTING', 'HELD', 'SUSPENDED'];
const FAILED: readonly Phase[] = ['ERROR', 'ABORTED'];
/** Inline values longer than this are cut on the page, with a link to the whole value. */
const SHOWN_VALUE_LENGTH = 500;

function inPhases(phases: readonly Phase[], phase: Phase): Html {
  return html` data-phases="${phases.join(' ')}"${phases.includes(phase) ? '' : html` hidden="hidden"`}`;
}

function instant(field: string, ms: number | null): Html {
  const text = ms === null ? '' : formatInstant(ms);
  return html`<time data-field="${field}" data-empty="—"${ms === null ? '' : html` datetime="${text}"`}>${text || '—'}</time>`;
}

function parametersSection(job: Job, jobUrl: string): Html {
  const views = parameterViews(job.parameters, jobUrl, false);
  const rows = views.map((p, i) => {
    const stored = job.parameters[i]?.file;
    let value: Html;
    if (p.byReference) {
      value = html`<a href="${p.value}">uploaded file</a>${stored ? html` <span class="hint">${formatSize(stored.size)}</span>` : ''}`;
    } else if (p.value.length > SHOWN_VALUE_LENGTH) {
      const index = views.slice(0, i).filter((q) => q.id === p.id).length;
      const href = `${jobUrl}/parameters/${encodeURIComponent(p.id)}${index === 0 ? '' : `?index=${index}`}`;
      value = html`<span class="mono">${p.value.slice(0, SHOWN_VALUE_LENGTH)}…</span> <a href="${href}">whole value (${p.value.length} characters)</a>`;
    } else {
      value = html`<span class="mono">${p.value}</span>`;
    }
    return html`<tr><th scope="row">${p.id}</th><td>${value}</td></tr>`;
  });
  return html`<section aria-labelledby="parameters-heading">
<h2 id="parameters-heading">Parameters</h2>
${
  rows.length === 0
    ? html`<p>None given; the job type's defaults apply.</p>`
    : html`<table><thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead><tbody>${rows}</tbody></table>`
}
</section>`;
}

function resultsSection(job: Job, jobUrl: string): Html {
  const items = resultViews(job.results, jobUrl).map(
    (r) => html`<li><a href="${r.href}">${r.id}</a> ${r.mimeType}, ${formatSize(r.size)}</li>`,
  );
  const empty = 'No results yet.';
  return html`<section aria-labelledby="results-heading">
<h2 id="results-heading">Results</h2>
<ul id="results" data-empty="${empty}">${items.length ? items : html`<li>${empty}</li>`}</ul>
</section>`;
}

function errorSection(job: Job, jobUrl: string): Html {
  const summary = job.errorSummary;
  return html`<section class="error" aria-labelledby="error-heading"${inPhases(FAILED, job.phase)}>
<h2 id="error-heading">Error</h2>
<p><span data-field="errorType">${summary?.type ?? ''}</span>: <span data-field="errorMessage">${summary?.message ?? ''}</span></p>
<p><a href="${jobUrl}/error">The whole error text</a></p>
</section>`;
}

function actionsSection(job: Job, jobUrl: string): Html {
  const destruction = job.destruction === null ? '' : formatInstant(job.destruction);
  return html`<section aria-labelledby="actions-heading">
<h2 id="actions-heading">Actions</h2>
<div class="actions">
<form method="post" action="${jobUrl}/phase"${inPhases(RUNNABLE, job.phase)}><input type="hidden" name="PHASE" value="RUN" /><button type="submit" class="primary">Run</button></form>
<form method="post" action="${jobUrl}/phase"${inPhases(ABORTABLE, job.phase)}><input type="hidden" name="PHASE" value="ABORT" /><button type="submit">Abort</button></form>
<form method="post" action="${jobUrl}" data-confirm="Delete job ${job.jobId} and its results?"><input type="hidden" name="ACTION" value="DELETE" /><button type="submit" class="danger">Delete</button></form>
<form method="post" action="${jobUrl}/destruction"${job.phase === 'ARCHIVED' ? html` hidden="hidden"` : ''}>
<label for="destruction-input">Destruction time (UTC)</label>
<input type="text" id="destruction-input" name="DESTRUCTION" value="${destruction}" required="required" aria-describedby="destruction-hint" />
<button type="submit">Change destruction</button>
<div class="hint" id="destruction-hint">ISO 8601, e.g. 2026-01-31T12:00:00Z; later than the service allows is cut to its limit</div>
</form>
</div>
</section>`;
}

function propertiesSection(job: Job, jobUrl: string): Html {
  return html`<section aria-labelledby="times-heading">
<h2 id="times-heading">Times and properties</h2>
<dl>
<dt>Created</dt><dd>${instant('creationTime', job.creationTime)}</dd>
<dt>Started</dt><dd>${instant('startTime', job.startTime)}</dd>
<dt>Ended</dt><dd>${instant('endTime', job.endTime)}</dd>
<dt>Quote</dt><dd>${instant('quote', job.quote)}</dd>
<dt>Execution duration</dt><dd>${formatDuration(job.executionDuration)}</dd>
<dt>Destruction</dt><dd>${instant('destruction', job.destruction)}</dd>
<dt>RUNID</dt><dd>${job.runId ?? '—'}</dd>
<dt>Owner</dt><dd>${job.ownerId ?? 'anonymous'}</dd>
</dl>
<p class="hint">The same job as a program sees it: <a href="${jobUrl}">${jobUrl}</a> (XML by default)</p>
</section>`;
}

/**
 * One job (UWS 1.1 sec. 2.2.1): phase, actions, results, error, times and
 * parameters. While the phase is active the script waits for changes with
 * WAIT and updates the page in place.
 */
export function renderJobPage(input: JobPageInput): string {
  const { job, jobType, jobUrl, listUrl } = input;
  return page({
    title: `Job ${job.jobId} (${jobType.name}): ${job.phase}`,
    rootUrl: input.rootUrl,
    trail: [
      ['Job types', `${input.rootUrl}/`],
      [`${jobType.name} jobs`, listUrl],
    ],
    mainAttributes: html` data-job-url="${jobUrl}" data-phase="${job.phase}" data-live-note="updates by itself"`,
    body: html`<h1>Job <code>${job.jobId}</code>${job.runId ? html` <span class="hint">“${job.runId}”</span>` : ''}</h1>
<p>Phase: <strong class="phase" id="phase" role="status" aria-live="polite" data-field="phase">${job.phase}</strong> <span class="hint" data-field="liveNote"></span></p>
${actionsSection(job, jobUrl)}
${resultsSection(job, jobUrl)}
${errorSection(job, jobUrl)}
${propertiesSection(job, jobUrl)}
${parametersSection(job, jobUrl)}`,
  });
}
