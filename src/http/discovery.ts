import type { ParameterDeclaration } from '../core/parameters.js';
import type { JobType } from '../exec/job-type.js';
import { escapeAttribute, escapeText } from './xml-text.js';

/** What `GET /` tells a person or a script about the job lists of this server. */
export interface DiscoveryDocument {
  readonly service: 'ivoa-uws';
  readonly uws: '1.1';
  readonly jobTypes: readonly {
    readonly name: string;
    readonly description: string;
    readonly jobList: string;
    readonly sync: string;
    readonly capabilities: string;
    readonly availability: string;
    readonly parameters: readonly ParameterDeclaration[];
    readonly executionDuration: {
      readonly default: number;
      readonly max: number;
      readonly allowUnlimited: boolean;
    };
    readonly lifetimeSeconds: { readonly default: number; readonly max: number };
    readonly controlParameters: readonly string[];
  }[];
}

/** The UWS control parameters accepted with a creating POST (OBJ-33, AMB-20). */
const CONTROL_PARAMETERS = ['PHASE=RUN', 'RUNID', 'DESTRUCTION', 'EXECUTIONDURATION'];

export function discoveryDocument(types: readonly JobType[], rootUrl: string): DiscoveryDocument {
  return {
    service: 'ivoa-uws',
    uws: '1.1',
    jobTypes: types.map((t) => ({
      name: t.name,
      description: t.description,
      jobList: `${rootUrl}/${t.name}/async`,
      sync: `${rootUrl}/${t.name}/sync`,
      capabilities: `${rootUrl}/${t.name}/capabilities`,
      availability: `${rootUrl}/${t.name}/availability`,
      parameters: t.schema.declarations,
      executionDuration: t.timePolicy.executionDuration,
      lifetimeSeconds: t.timePolicy.lifetime,
      controlParameters: CONTROL_PARAMETERS,
    })),
  };
}

function inputFor(d: ParameterDeclaration): string {
  const name = escapeAttribute(d.name);
  if (d.type === 'file') return `<input type="file" name="${name}">`;
  if (d.type === 'enum') {
    const options = (d.values ?? [])
      .map((v) => `<option${v === d.default ? ' selected' : ''}>${escapeText(v)}</option>`)
      .join('');
    return `<select name="${name}">${d.required ? '' : '<option value=""></option>'}${options}</select>`;
  }
  if (d.type === 'boolean') {
    return `<select name="${name}"><option value=""></option><option>true</option><option>false</option></select>`;
  }
  const placeholder = d.default !== undefined ? ` placeholder="${escapeAttribute(d.default)}"` : '';
  return `<input name="${name}"${placeholder}${d.required ? ' required' : ''}>`;
}

/** The same as HTML, with a form per job type that creates (and optionally starts) a job. */
export function discoveryHtml(doc: DiscoveryDocument): string {
  const sections = doc.jobTypes
    .map((t) => {
      const rows = t.parameters
        .map(
          (d) =>
            `<tr><td><label>${escapeText(d.name)}</label></td><td>${escapeText(d.type)}${d.multiple ? ' (several)' : ''}${d.required ? ', required' : ''}</td><td>${inputFor(d)}</td><td>${escapeText(d.description ?? '')}</td></tr>`,
        )
        .join('\n');
      return `<section>
<h2>${escapeText(t.name)}</h2>
<p>${escapeText(t.description)}</p>
<p>Job list: <a href="${escapeAttribute(t.jobList)}">${escapeText(t.jobList)}</a> ·
capabilities: <a href="${escapeAttribute(t.capabilities)}">${escapeText(t.capabilities)}</a> ·
availability: <a href="${escapeAttribute(t.availability)}">${escapeText(t.availability)}</a></p>
<form method="post" action="${escapeAttribute(t.jobList)}" enctype="multipart/form-data">
<table>
${rows}
<tr><td><label>RUNID</label></td><td>string</td><td><input name="RUNID"></td><td>your label for the job</td></tr>
<tr><td><label>PHASE</label></td><td></td><td><select name="PHASE"><option value="">stay PENDING</option><option>RUN</option></select></td><td>start at once</td></tr>
</table>
<button type="submit">Create job</button>
</form>
</section>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>UWS 1.1 job lists</title></head>
<body>
<h1>UWS 1.1 job lists</h1>
${sections || '<p>This server offers no job types.</p>'}
</body></html>
`;
}
