import { BadRequestError } from './errors.js';
import type { JobParameter } from './job.js';
import { parseInstant } from './time.js';

/** The seed's denial-of-service shield: no single value may exceed this. */
export const MAX_PARAMETER_LENGTH = 50_000;

export type ParameterType =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'enum'
  | 'date'
  /** A file: a multipart part of the parameter's name, `param:part`, or an http(s) URL. */
  | 'file'
  /** DALI UPLOAD: `name,URI` pairs, URI http(s) or `param:part` (DALI-8). */
  | 'upload';

export interface ParameterDeclaration {
  readonly name: string;
  readonly type: ParameterType;
  readonly description?: string;
  readonly required?: boolean;
  /** Used when the client gives no value; kept as text like any client value. */
  readonly default?: string;
  /** Several values allowed (DALI-5); `upload` is always multi-valued. */
  readonly multiple?: boolean;
  /** The allowed values of an `enum`, matched exactly (values are case-sensitive, DALI-1). */
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** A stricter length limit than MAX_PARAMETER_LENGTH. */
  readonly maxLength?: number;
}

/** A decoded value handed to job code. */
export type ParameterValue = string | number | boolean | UploadReference | FileReference;

export interface UploadReference {
  readonly kind: 'upload';
  /** The table name chosen by the client. */
  readonly name: string;
  /** `param:part` or an http(s) URL. */
  readonly uri: string;
  /** Where the content lies once stored in the job's working directory. */
  readonly path?: string;
}

export interface FileReference {
  readonly kind: 'file';
  /** `param:part`, an http(s) URL, or empty when the part carried the parameter's own name. */
  readonly uri: string;
  /** Where the content lies once stored in the job's working directory. */
  readonly path?: string;
}

const XSD_TRUE = new Set(['true', '1']);
const XSD_FALSE = new Set(['false', '0']);
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:Infinity|NaN)$/;
const UPLOAD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export function isHttpUrl(uri: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(uri);
}

/**
 * Checks one value against its declaration and decodes it. Throws a
 * BadRequestError whose message names the parameter and says what was expected.
 */
export function decodeParameter(decl: ParameterDeclaration, text: string): ParameterValue {
  const limit = Math.min(decl.maxLength ?? MAX_PARAMETER_LENGTH, MAX_PARAMETER_LENGTH);
  // Characters are code points, as in the seed (Python len), so astral characters count once.
  const characters = text.length > limit ? codePointCount(text) : text.length;
  if (characters > limit) {
    throw new BadRequestError(
      `parameter ${decl.name}: value of ${characters} characters exceeds the limit of ${limit}`,
      decl.name,
    );
  }
  const bad = (expected: string): never => {
    throw new BadRequestError(`parameter ${decl.name}: '${clip(text)}' is not ${expected}`, decl.name);
  };
  switch (decl.type) {
    case 'string':
      return text;
    case 'integer': {
      if (!INTEGER.test(text.trim())) bad('an integer');
      const n = Number(text.trim());
      if (!Number.isSafeInteger(n)) bad('an integer within ±9007199254740991');
      checkRange(decl, n, text);
      return n;
    }
    case 'number': {
      if (!NUMBER.test(text.trim())) bad('a number');
      const n = Number(text.trim());
      checkRange(decl, n, text);
      return n;
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (XSD_TRUE.has(t)) return true;
      if (XSD_FALSE.has(t)) return false;
      return bad('a boolean (true, false, 1 or 0)');
    }
    case 'enum': {
      const values = decl.values ?? [];
      if (!values.includes(text)) bad(`one of ${values.join(', ')}`);
      return text;
    }
    case 'date':
      return parseInstant(text, decl.name);
    case 'file': {
      const uri = text.trim();
      if (uri !== '' && !(uri.startsWith('param:') && uri.length > 6) && !isHttpUrl(uri)) {
        bad('a file part, a param: reference or an http(s) URL');
      }
      return { kind: 'file', uri };
    }
    case 'upload': {
      const comma = text.indexOf(',');
      if (comma < 0) bad('an upload of the form name,URI');
      const name = text.slice(0, comma).trim();
      const uri = text.slice(comma + 1).trim();
      if (!UPLOAD_NAME.test(name))
        bad('an upload whose name starts with a letter and has only letters, digits and _');
      if (!(uri.startsWith('param:') && uri.length > 6) && !isHttpUrl(uri)) {
        bad('an upload whose URI is param:<part> or an http(s) URL');
      }
      return { kind: 'upload', name, uri };
    }
  }
}

function checkRange(decl: ParameterDeclaration, n: number, text: string): void {
  const ranged = decl.min !== undefined || decl.max !== undefined;
  // NaN compares false with everything, so it would pass any range unless refused here.
  if (
    (ranged && Number.isNaN(n)) ||
    (decl.min !== undefined && n < decl.min) ||
    (decl.max !== undefined && n > decl.max)
  ) {
    throw new BadRequestError(
      `parameter ${decl.name}: ${clip(text)} is outside the allowed range ${decl.min ?? '-∞'}..${decl.max ?? '∞'}`,
      decl.name,
    );
  }
}

function codePointCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A job type's parameter declarations, looked up case-insensitively (DALI-1, PAR-8). */
export class ParameterSchema {
  readonly declarations: readonly ParameterDeclaration[];
  private readonly byLowerName: Map<string, ParameterDeclaration>;

  constructor(declarations: readonly ParameterDeclaration[]) {
    this.declarations = declarations;
    this.byLowerName = new Map();
    for (const d of declarations) {
      const key = d.name.toLowerCase();
      if (this.byLowerName.has(key)) throw new Error(`parameter ${d.name} is declared twice`);
      if (d.type === 'enum' && (!d.values || d.values.length === 0)) {
        throw new Error(`enum parameter ${d.name} declares no values`);
      }
      this.byLowerName.set(key, d);
    }
  }

  find(name: string): ParameterDeclaration | undefined {
    return this.byLowerName.get(name.toLowerCase());
  }

  isMultiple(decl: ParameterDeclaration): boolean {
    return decl.type === 'upload' || decl.multiple === true;
  }

  /**
   * Validates client-given (name, value) pairs and returns them under their
   * declared names, values verbatim. Undeclared names are refused together in one
   * message; a single-valued parameter given twice is refused (DALI-5); empty
   * values are ignored, as clients send empty form fields for unset options.
   * With `complete`, required parameters must be present and defaults are filled in.
   */
  normalise(
    given: readonly { name: string; value: string }[],
    options: { complete: boolean },
  ): JobParameter[] {
    const unknown: string[] = [];
    const out: JobParameter[] = [];
    const seen = new Map<string, number>();
    for (const { name, value } of given) {
      const decl = this.find(name);
      if (!decl) {
        unknown.push(name);
        continue;
      }
      if (value === '') continue;
      decodeParameter(decl, value);
      const count = (seen.get(decl.name) ?? 0) + 1;
      if (count > 1 && !this.isMultiple(decl)) {
        throw new BadRequestError(
          `parameter ${decl.name} takes a single value but was given several`,
          decl.name,
        );
      }
      seen.set(decl.name, count);
      out.push({ name: decl.name, value });
    }
    if (unknown.length > 0) {
      const names = [...new Set(unknown)];
      throw new BadRequestError(
        `unknown parameter${names.length > 1 ? 's' : ''} ${names.join(', ')}; this job type accepts ${
          this.declarations.map((d) => d.name).join(', ') || 'no parameters'
        }`,
        names[0],
      );
    }
    if (options.complete) {
      for (const d of this.declarations) {
        if (seen.has(d.name)) continue;
        if (d.default !== undefined) out.push({ name: d.name, value: d.default });
        else if (d.required) throw new BadRequestError(`parameter ${d.name} is required`, d.name);
      }
    }
    return out;
  }

  /** Replaces or adds parameters of a PENDING job (AMB-10): each name given replaces all its old values. */
  merge(current: readonly JobParameter[], update: readonly JobParameter[]): JobParameter[] {
    const replaced = new Set(update.map((p) => p.name));
    return [...current.filter((p) => !replaced.has(p.name)), ...update];
  }

  /** Decoded values for job code: single values as scalars, multi-valued as arrays, defaults filled in. */
  decodeAll(parameters: readonly JobParameter[]): Record<string, ParameterValue | ParameterValue[]> {
    const out: Record<string, ParameterValue | ParameterValue[]> = {};
    for (const d of this.declarations) {
      if (d.default !== undefined && !parameters.some((p) => p.name === d.name)) {
        const v = decodeParameter(d, d.default);
        out[d.name] = this.isMultiple(d) ? [v] : v;
      }
    }
    for (const p of parameters) {
      const decl = this.find(p.name);
      if (!decl) continue;
      const v = decodeParameter(decl, p.value);
      if (this.isMultiple(decl)) {
        const list = (out[decl.name] as ParameterValue[] | undefined) ?? [];
        list.push(v);
        out[decl.name] = list;
      } else {
        out[decl.name] = v;
      }
    }
    return out;
  }
}
