import type { JobType } from '../exec/job-type.js';
import { formatDuration } from './format.js';
import { html } from './html.js';
import { page } from './layout.js';

export interface ServicePageInput {
  readonly jobTypes: readonly JobType[];
  /** The absolute URL of the service root. */
  readonly rootUrl: string;
}

/** `GET /` for a person: each job type with its parameters and a way to its jobs and create form. */
export function renderServicePage(input: ServicePageInput): string {
  const { rootUrl } = input;
  const sections = input.jobTypes.map((t, i) => {
    const list = `${rootUrl}/${t.name}/async`;
    const decls = t.schema.declarations;
    const rows = decls.map(
      (d) =>
        html`<tr><th scope="row"><code>${d.name}</code></th><td>${d.type}${d.multiple ? ', several' : ''}</td><td>${d.required && d.default === undefined ? 'yes' : 'no'}</td><td>${d.default ?? ''}</td><td>${d.description ?? ''}${d.type === 'enum' ? html` (${(d.values ?? []).join(', ')})` : ''}</td></tr>`,
    );
    return html`<section aria-labelledby="type-${i}">
<h2 id="type-${i}">${t.name}</h2>
${t.description ? html`<p>${t.description}</p>` : ''}
<p><a href="${list}">${t.name} jobs and the form to create one</a></p>
${
  decls.length === 0
    ? html`<p>No parameters.</p>`
    : html`<table><caption class="hint">Parameters</caption><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Default</th><th scope="col">Description</th></tr></thead><tbody>${rows}</tbody></table>`
}
<p class="hint">Run time: default ${formatDuration(t.timePolicy.executionDuration.default)}, at most ${formatDuration(t.timePolicy.executionDuration.max)}.
For programs: <a href="${list}">job list</a> · <a href="${rootUrl}/${t.name}/sync">sync</a> · <a href="${rootUrl}/${t.name}/capabilities">capabilities</a> · <a href="${rootUrl}/${t.name}/availability">availability</a></p>
</section>`;
  });
  return page({
    title: 'UWS job types',
    rootUrl,
    body: html`<h1>UWS job types</h1>
<p>This service runs jobs as the IVOA Universal Worker Service (UWS 1.1) describes. Pick a job type to see its jobs or to start one.</p>
${sections.length ? sections : html`<p>This service offers no job types.</p>`}
<p class="hint">Also: <a href="${rootUrl}/openapi.json">the OpenAPI description</a> of this interface.</p>`,
  });
}
