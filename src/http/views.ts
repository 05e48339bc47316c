import type { Job, JobParameter, JobResult } from '../core/job.js';
import { isXmlRepresentable } from './xml-text.js';

/**
 * What a job's parameters and results look like to a client, independent of the
 * format: the XML and JSON renderings both start from these, so they cannot
 * disagree about names, URLs or which values go by reference.
 */
export interface ParameterView {
  readonly id: string;
  readonly value: string;
  readonly byReference: boolean;
}

export interface ResultView {
  readonly id: string;
  /** Always this server's `{job}/results/{id}` (DALI-14, RES-8), even for external results. */
  readonly href: string;
  readonly size: number | null;
  readonly mimeType: string;
}

/** The URL at which a file-valued parameter's content is served (PAR-7, AMB-19). */
export function parameterFileUrl(jobUrl: string, fileName: string): string {
  return `${jobUrl}/parameters/${encodeURIComponent(fileName)}`;
}

/**
 * The URL for an inline value that XML cannot carry. The n-th (0-based) value
 * of a multi-valued parameter gets `?index=n` after the first.
 */
export function parameterValueUrl(jobUrl: string, name: string, index: number): string {
  const base = `${jobUrl}/parameters/${encodeURIComponent(name)}`;
  return index === 0 ? base : `${base}?index=${index}`;
}

export function resultUrl(jobUrl: string, resultId: string): string {
  return `${jobUrl}/results/${encodeURIComponent(resultId)}`;
}

/**
 * Files always go by reference (PAR-2, PAR-7). Inline values go by reference
 * only when the target format cannot hold them: `forXml` says whether it is XML.
 */
export function parameterViews(
  parameters: readonly JobParameter[],
  jobUrl: string,
  forXml: boolean,
): ParameterView[] {
  const seen = new Map<string, number>();
  return parameters.map((p) => {
    const index = seen.get(p.name) ?? 0;
    seen.set(p.name, index + 1);
    if (p.file) return { id: p.name, value: parameterFileUrl(jobUrl, p.file.fileName), byReference: true };
    if (forXml && !isXmlRepresentable(p.value)) {
      return { id: p.name, value: parameterValueUrl(jobUrl, p.name, index), byReference: true };
    }
    return { id: p.name, value: p.value, byReference: false };
  });
}

export function resultViews(results: readonly JobResult[], jobUrl: string): ResultView[] {
  return results.map((r) => ({
    id: r.id,
    href: resultUrl(jobUrl, r.id),
    size: r.size,
    mimeType: r.mediaType,
  }));
}

/** The value of `name` (any case) served at parameters/{name}?index=n for inline values. */
export function inlineParameterValue(job: Job, name: string, index: number): string | undefined {
  const wanted = name.toLowerCase();
  const values = job.parameters.filter((p) => !p.file && p.name.toLowerCase() === wanted);
  return values[index]?.value;
}
