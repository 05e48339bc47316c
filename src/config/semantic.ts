import { z } from 'zod';
import { decodeParameter, ParameterSchema } from '../core/parameters.js';
import { validateTimePolicy } from '../core/policy.js';
import { plainFileNameProblem } from '../results/file-names.js';
import type { ConfigProblem } from './problems.js';
import {
  executionDurationSchema,
  JOB_TYPE_NAME,
  lifetimeSchema,
  PLACEHOLDER,
  PLACEHOLDER_BUILTINS,
  parameterDeclarationSchema,
} from './schema.js';

/** Names a job type cannot declare: the UWS control parameters (OBJ-33) and the built-in placeholders. */
const RESERVED_PARAMETERS = new Set([
  'phase',
  'runid',
  'destruction',
  'executionduration',
  'workdir',
  'outdir',
]);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const parametersSchema = z.array(parameterDeclarationSchema);
const commandSchema = z.array(z.string());

/**
 * Rules the schema cannot express, checked on the raw (merged) input so that they
 * are reported together with the schema's problems, not after they are fixed.
 * Each check looks only at parts that are well-formed by themselves; a part with a
 * type error is already reported and is skipped here rather than reported twice.
 */
export function semanticProblems(raw: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!isRecord(raw) || !Array.isArray(raw.jobTypes)) return out;
  const firstByName = new Map<string, number>();
  raw.jobTypes.forEach((jobType, i) => {
    if (!isRecord(jobType)) return;
    const at = `jobTypes[${i}]`;
    checkName(jobType.name, at, i, firstByName, out);
    const declared = declaredNames(jobType.parameters);
    checkParameters(jobType.parameters, at, out);
    checkTimePolicy(jobType, at, out);
    checkCommand(jobType.command, declared, at, out);
    checkEnv(jobType.env, declared, at, out);
    if (typeof jobType.mainResult === 'string' && jobType.mainResult !== '') {
      const problem = plainFileNameProblem(jobType.mainResult);
      if (problem) out.push({ path: `${at}.mainResult`, message: `not a valid result name: ${problem}` });
    }
  });
  return out;
}

function checkName(
  name: unknown,
  at: string,
  index: number,
  firstByName: Map<string, number>,
  out: ConfigProblem[],
): void {
  if (typeof name !== 'string') return;
  if (!JOB_TYPE_NAME.test(name)) {
    out.push({
      path: `${at}.name`,
      message: `${JSON.stringify(name)} is not a valid job type name: it must start with a letter and have only letters, digits, - and _ (at most 64)`,
    });
    return;
  }
  // Names become URL path segments; two that differ only in case would confuse people and tools alike.
  const key = name.toLowerCase();
  const first = firstByName.get(key);
  if (first !== undefined) {
    out.push({ path: `${at}.name`, message: `job type ${name} is already declared by jobTypes[${first}]` });
  } else {
    firstByName.set(key, index);
  }
}

function checkParameters(raw: unknown, at: string, out: ConfigProblem[]): void {
  const parsed = parametersSchema.safeParse(raw ?? []);
  if (!parsed.success) return;
  const declarations = parsed.data;
  const firstByName = new Map<string, number>();
  const before = out.length;
  declarations.forEach((d, j) => {
    const p = `${at}.parameters[${j}]`;
    const first = firstByName.get(d.name.toLowerCase());
    if (first !== undefined) {
      out.push({
        path: `${p}.name`,
        message: `${d.name} is already declared by parameters[${first}] (names are case-insensitive)`,
      });
    } else {
      firstByName.set(d.name.toLowerCase(), j);
    }
    if (d.type === 'enum' && d.values === undefined) {
      out.push({ path: `${p}.values`, message: 'an enum parameter needs its list of values' });
    }
    if (RESERVED_PARAMETERS.has(d.name.toLowerCase())) {
      out.push({
        path: `${p}.name`,
        message: `${d.name} is reserved (a UWS control parameter or placeholder)`,
      });
    }
    if (d.values !== undefined && d.type !== 'enum') {
      out.push({ path: `${p}.values`, message: `only enum parameters take values; this one is ${d.type}` });
    }
    if ((d.min !== undefined || d.max !== undefined) && d.type !== 'integer' && d.type !== 'number') {
      out.push({ path: `${p}`, message: `min and max only apply to integer and number parameters` });
    }
    if (d.min !== undefined && d.max !== undefined && d.min > d.max) {
      out.push({ path: `${p}.min`, message: `min ${d.min} is greater than max ${d.max}` });
    }
    if (d.default !== undefined && (d.type !== 'enum' || d.values)) {
      try {
        decodeParameter(d, d.default);
      } catch (err) {
        out.push({ path: `${p}.default`, message: (err as Error).message });
      }
    }
  });
  if (out.length === before) {
    // The core's own rules, in case they grow beyond the ones checked above.
    try {
      new ParameterSchema(declarations);
    } catch (err) {
      out.push({ path: `${at}.parameters`, message: (err as Error).message });
    }
  }
}

function checkTimePolicy(jobType: Record<string, unknown>, at: string, out: ConfigProblem[]): void {
  const executionDuration = executionDurationSchema.safeParse(jobType.executionDuration ?? {});
  const lifetime = lifetimeSchema.safeParse(jobType.lifetime ?? {});
  if (!executionDuration.success || !lifetime.success) return;
  try {
    validateTimePolicy({ executionDuration: executionDuration.data, lifetime: lifetime.data }, at);
  } catch (err) {
    // validateTimePolicy says "<where>: <what>"; keep the what, the path is ours.
    const message = (err as Error).message;
    out.push({ path: at, message: message.startsWith(`${at}: `) ? message.slice(at.length + 2) : message });
  }
}

function checkCommand(
  raw: unknown,
  declared: ReadonlyMap<string, string>,
  at: string,
  out: ConfigProblem[],
): void {
  const parsed = commandSchema.safeParse(raw);
  if (!parsed.success) return;
  const command = parsed.data;
  if (command.length === 0) {
    out.push({ path: `${at}.command`, message: 'must name a program to run; it is empty' });
    return;
  }
  if (command[0]!.trim() === '') {
    out.push({ path: `${at}.command[0]`, message: 'the program to run is an empty string' });
  }
  command.forEach((arg, k) => {
    checkPlaceholders(arg, declared, `${at}.command[${k}]`, out);
  });
}

function checkEnv(
  raw: unknown,
  declared: ReadonlyMap<string, string>,
  at: string,
  out: ConfigProblem[],
): void {
  if (!isRecord(raw)) return;
  for (const [name, value] of Object.entries(raw)) {
    const p = `${at}.env${/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`}`;
    if (!ENV_NAME.test(name)) {
      out.push({ path: p, message: 'not a valid environment variable name' });
    }
    if (typeof value === 'string') checkPlaceholders(value, declared, p, out);
  }
}

function checkPlaceholders(
  text: string,
  declared: ReadonlyMap<string, string>,
  at: string,
  out: ConfigProblem[],
): void {
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (declared.has(name.toLowerCase()) || (PLACEHOLDER_BUILTINS as readonly string[]).includes(name)) {
      continue;
    }
    const known = [...declared.values(), ...PLACEHOLDER_BUILTINS];
    out.push({
      path: at,
      message: `placeholder \${${name}} is neither a declared parameter nor a built-in (known: ${known.join(', ')})`,
    });
  }
}

/** The parameters declared, as far as they can be read: lower-cased name -> name as declared. */
function declaredNames(raw: unknown): Map<string, string> {
  const names = new Map<string, string>();
  if (!Array.isArray(raw)) return names;
  for (const d of raw) {
    if (isRecord(d) && typeof d.name === 'string' && !names.has(d.name.toLowerCase())) {
      names.set(d.name.toLowerCase(), d.name);
    }
  }
  return names;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
