import type { ParameterDeclaration } from '../core/parameters.js';
import type { JobType } from '../exec/job-type.js';
import { type Html, html } from './html.js';

/** Forms that carry files must be multipart; the rest are urlencoded, as UWS clients send. */
export function needsMultipart(declarations: readonly ParameterDeclaration[]): boolean {
  return declarations.some((d) => d.type === 'file' || d.type === 'upload');
}

function hint(d: ParameterDeclaration): string {
  const parts: string[] = [];
  if (d.description) parts.push(d.description);
  const kind: Record<ParameterDeclaration['type'], string> = {
    string: 'text',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
    enum: 'one of the listed values',
    date: 'an ISO 8601 instant in UTC, e.g. 2026-01-31T12:00:00Z',
    file: 'a file',
    upload: 'a table to upload',
  };
  parts.push(kind[d.type]);
  if (d.min !== undefined || d.max !== undefined) parts.push(`from ${d.min ?? '-∞'} to ${d.max ?? '∞'}`);
  if (d.default !== undefined) parts.push(`default ${d.default}`);
  if (d.required) parts.push('required');
  if (d.multiple) parts.push('several values allowed');
  return parts.join('; ');
}

/** The input (or select) for one declaration; ids are positional so any declared name is safe. */
function control(d: ParameterDeclaration, id: string, hintId: string, first = true): Html {
  const required = first && d.required === true && d.default === undefined;
  const common = html`id="${id}" name="${d.name}" aria-describedby="${hintId}"${required ? html` required="required"` : ''}`;
  switch (d.type) {
    case 'enum':
      if (d.multiple)
        return html`<select ${common} multiple="multiple">${(d.values ?? []).map((v) => html`<option value="${v}">${v}</option>`)}</select>`;
      return html`<select ${common}>${required ? '' : html`<option value="">(${d.default !== undefined ? `default: ${d.default}` : 'none'})</option>`}${(
        d.values ?? []
      ).map((v) => html`<option value="${v}">${v}</option>`)}</select>`;
    case 'boolean':
      return html`<select ${common}><option value="">(${d.default !== undefined ? `default: ${d.default}` : 'none'})</option><option value="true">true</option><option value="false">false</option></select>`;
    case 'integer':
    case 'number':
      return html`<input type="number" ${common} step="${d.type === 'integer' ? '1' : 'any'}"${d.min !== undefined ? html` min="${d.min}"` : ''}${d.max !== undefined ? html` max="${d.max}"` : ''} />`;
    case 'file':
      return html`<input type="file" ${common} />`;
    default:
      return html`<input type="text" ${common}${d.maxLength !== undefined ? html` maxlength="${d.maxLength}"` : ''} />`;
  }
}

/**
 * A DALI UPLOAD slot: a file input plus the hidden `UPLOAD=name,param:part`
 * field that names the part (DALI-8); the table name is editable, and the script
 * sends the hidden field only when a file was chosen.
 */
function uploadControl(d: ParameterDeclaration, id: string, hintId: string): Html {
  const required = d.required === true;
  const part = `${d.name}-file1`;
  return html`<label for="${id}">${d.name}</label>
<input type="file" id="${id}" name="${part}" aria-describedby="${hintId}" data-upload="${id}-value" data-table-name="${id}-table"${required ? html` required="required"` : ''} />
<label for="${id}-table" class="hint">Table name</label>
<input type="text" id="${id}-table" value="table1" pattern="[A-Za-z][A-Za-z0-9_]*" aria-describedby="${hintId}" />
<input type="hidden" id="${id}-value" name="${d.name}" value="table1,param:${part}" />`;
}

function field(d: ParameterDeclaration, index: number, prefix: string): Html {
  const id = `${prefix}-${index}`;
  const hintId = `${id}-hint`;
  const description = html`<div class="hint" id="${hintId}">${hint(d)}</div>`;
  if (d.type === 'upload')
    return html`<div class="field">${uploadControl(d, id, hintId)}${description}</div>`;
  if (d.multiple && d.type !== 'enum' && d.type !== 'file') {
    // Several fields of one name: the form sends each filled one as a value (DALI-5).
    const slots = [1, 2, 3].map(
      (n) =>
        html`<label for="${id}-${n}">${d.name} (${n})</label>${control(d, `${id}-${n}`, hintId, n === 1)}`,
    );
    return html`<div class="field">${slots}${description}</div>`;
  }
  return html`<div class="field"><label for="${id}">${d.name}</label>${control(d, id, hintId)}${description}</div>`;
}

/** Inputs for a job type's declared parameters, in declaration order. */
export function parameterFields(declarations: readonly ParameterDeclaration[], prefix: string): Html {
  return html`${declarations.map((d, i) => field(d, i, prefix))}`;
}

/**
 * The form that creates a job of `type`: POST to the job list with the declared
 * parameters, RUNID, and PHASE=RUN when "start at once" is ticked (JL-POST-*).
 * The 303 answer brings the browser to the new job's page.
 */
export function renderCreateForm(type: JobType, listUrl: string): Html {
  const decls = type.schema.declarations;
  const multipart = needsMultipart(decls);
  return html`<section aria-labelledby="create-heading">
<h2 id="create-heading">New ${type.name} job</h2>
<form method="post" action="${listUrl}"${multipart ? html` enctype="multipart/form-data"` : ''} class="create">
${decls.length === 0 ? html`<p>This job type takes no parameters.</p>` : parameterFields(decls, 'param')}
<div class="field"><label for="create-runid">RUNID</label><input type="text" id="create-runid" name="RUNID" maxlength="64" aria-describedby="create-runid-hint" /><div class="hint" id="create-runid-hint">your own label for the job (optional)</div></div>
<div class="field check"><input type="checkbox" id="create-run" name="PHASE" value="RUN" checked="checked" /> <label for="create-run">Start the job at once</label></div>
<button type="submit" class="primary">Create job</button>
</form>
</section>`;
}
