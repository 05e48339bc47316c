import { readFileSync } from 'node:fs';
import { type ConfigProblem, describeValue, formatProblem, problemsFromIssues } from './problems.js';
import { type UwsConfig, uwsConfigSchema } from './schema.js';
import { semanticProblems } from './semantic.js';

export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/**
 * A configuration that cannot be used. The message lists every problem, one per
 * line, each with its key path, so that one run of `ivoa-uws config check` shows
 * all there is to fix.
 */
export class ConfigError extends Error {
  /** One line per problem: `key.path: what is wrong`. */
  readonly problems: readonly string[];
  readonly file: string | undefined;

  constructor(problems: readonly string[], file?: string) {
    const where = file ? ` in ${file}` : '';
    super(
      problems.length === 1
        ? `invalid configuration${where}: ${problems[0]}`
        : `invalid configuration${where}, ${problems.length} problems:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
    this.file = file;
  }
}

/** Environment variables that override single settings (containers, systemd units). Empty means unset. */
export const ENV_OVERRIDES = [
  { variable: 'IVOA_UWS_HOST', path: ['server', 'host'], numeric: false },
  { variable: 'IVOA_UWS_PORT', path: ['server', 'port'], numeric: true },
  { variable: 'IVOA_UWS_BASE_URL', path: ['server', 'baseUrl'], numeric: false },
  { variable: 'IVOA_UWS_STORE', path: ['store', 'url'], numeric: false },
  { variable: 'IVOA_UWS_WORK_DIR', path: ['workDir'], numeric: false },
  { variable: 'IVOA_UWS_LOG_LEVEL', path: ['log', 'level'], numeric: false },
] as const;

export interface LoadConfigOptions {
  /** A JSON config file; without it every setting has its default. */
  readonly file?: string;
  /** Source of IVOA_UWS_* overrides; process.env when not given. Pass `{}` to ignore the environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** Settings that win over the file and the environment (command-line options). */
  readonly overrides?: DeepPartial<UwsConfig>;
  /** Names the source of each override in problems, e.g. `{ 'server.port': '--port' }`. */
  readonly overrideSources?: Readonly<Record<string, string>>;
}

/**
 * The effective configuration: defaults, then the file, then IVOA_UWS_* variables,
 * then `overrides`; validated as a whole. Throws ConfigError naming every problem.
 */
export function loadConfig(options: LoadConfigOptions = {}): UwsConfig {
  const fromFile = options.file === undefined ? {} : readConfigFile(options.file);
  if (!isPlainObject(fromFile)) {
    throw new ConfigError([
      `config file ${options.file} must hold a JSON object, got ${describeValue(fromFile)}`,
    ]);
  }
  const sources: Record<string, string> = {};
  let merged: unknown = fromFile;
  const env = options.env ?? process.env;
  for (const { variable, path, numeric } of ENV_OVERRIDES) {
    const text = env[variable];
    if (text === undefined || text.trim() === '') continue;
    // A number where a number is expected; anything else stays text for the validator to name.
    const value = numeric && /^\s*\d+\s*$/.test(text) ? Number(text) : text;
    merged = deepMerge(merged, nest(path, value));
    sources[path.join('.')] = variable;
  }
  if (options.overrides !== undefined) {
    merged = deepMerge(merged, options.overrides);
    for (const path of leafPaths(options.overrides)) {
      sources[path] = options.overrideSources?.[path] ?? 'the command line';
    }
  }
  return validateConfig(merged, { file: options.file, sources });
}

/**
 * Validates a configuration object (as read from JSON) and fills in defaults.
 * `sources` names where overridden keys came from, for the messages.
 */
export function validateConfig(
  raw: unknown,
  context: { file?: string | undefined; sources?: Readonly<Record<string, string>> } = {},
): UwsConfig {
  const problems = configProblems(raw);
  if (problems.length > 0) {
    const sources = context.sources ?? {};
    throw new ConfigError(
      problems.map((p) => {
        const source = sources[p.path];
        return formatProblem(source ? { ...p, message: `${p.message} (from ${source})` } : p);
      }),
      context.file,
    );
  }
  return uwsConfigSchema.parse(raw);
}

/** Every problem of a configuration object, schema and semantic ones together; empty when it is valid. */
export function configProblems(raw: unknown): ConfigProblem[] {
  const parsed = uwsConfigSchema.safeParse(raw, { reportInput: true });
  const problems = parsed.success ? [] : problemsFromIssues(parsed.error.issues, uwsConfigSchema);
  return inFileOrder([...problems, ...semanticProblems(raw)]);
}

/**
 * Schema and semantic problems interleaved the way the file reads: by top-level
 * key in schema order, then by array index (jobTypes[0] before jobTypes[1]).
 */
function inFileOrder(problems: ConfigProblem[]): ConfigProblem[] {
  const topKeys = Object.keys(uwsConfigSchema.shape);
  const rank = (p: ConfigProblem): [number, number] => {
    const m = /^([A-Za-z_$][\w$]*)(?:\[(\d+)\])?/.exec(p.path);
    const top = m ? topKeys.indexOf(m[1]!) : -1;
    return [top < 0 ? topKeys.length : top, m?.[2] ? Number(m[2]) : -1];
  };
  return problems
    .map((p, i) => ({ p, i, r: rank(p) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i)
    .map((x) => x.p);
}

/** Reads and parses a JSON config file; a ConfigError names the file and, for bad JSON, the line and column. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw new ConfigError([`cannot read config file ${file}: ${why}`]);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError([
      `config file ${file} is not valid JSON: ${describeJsonError(err as Error, text)}`,
    ]);
  }
}

/** V8 says "... in JSON at position N" (and newer versions add line and column); say line and column. */
function describeJsonError(err: Error, text: string): string {
  const reason = err.message
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/\s*in JSON at position \d+/, '')
    .replace(/,\s*"[\s\S]*" is not valid JSON$/, '');
  const position = /at position (\d+)/.exec(err.message);
  const offset = position ? Number(position[1]) : /end of JSON input/.test(err.message) ? text.length : null;
  if (offset === null) return reason;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: ${reason}`;
}

function nest(path: readonly string[], value: unknown): Record<string, unknown> {
  let out: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) out = { [path[i]!]: out };
  return out as Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; arrays and scalars replace; undefined in `over` changes nothing. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    out[key] = deepMerge(base[key], value);
  }
  return out;
}

function leafPaths(value: unknown, prefix = ''): string[] {
  if (!isPlainObject(value)) return prefix ? [prefix] : [];
  return Object.entries(value).flatMap(([key, v]) =>
    v === undefined ? [] : leafPaths(v, prefix ? `${prefix}.${key}` : key),
  );
}
