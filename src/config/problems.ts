import type { z } from 'zod';

/** One thing wrong with a configuration: where (a key path like `jobTypes[1].command`) and what. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.path}: ${p.message}`;
}

/** `['jobTypes', 1, 'executionDuration', 'max']` -> `jobTypes[1].executionDuration.max`. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out || '(the configuration)';
}

/** A value as an operator would recognise it in their file, kept to one short line. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    return text.length > 62 ? `${text.slice(0, 58)}..."` : text;
  }
  return String(value);
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

function expectedText(expected: string): string {
  return EXPECTED[expected] ?? expected;
}

function bound(
  issue: { origin: string; inclusive?: boolean },
  value: number | bigint,
  small: boolean,
): string {
  const n = Number(value);
  switch (issue.origin) {
    case 'string':
      if (small && n === 1) return 'must not be empty';
      return small ? `must have at least ${n} characters` : `must have at most ${n} characters`;
    case 'array':
      if (small && n === 1) return 'must have at least one item';
      return small ? `must have at least ${n} items` : `must have at most ${n} items`;
    default: {
      const op = small ? (issue.inclusive === false ? '>' : '>=') : issue.inclusive === false ? '<' : '<=';
      return `expected ${issue.origin === 'int' ? 'an integer' : 'a number'} ${op} ${n}`;
    }
  }
}

/**
 * Turns zod's issues into problems an operator can act on: one per bad key (an
 * object with three unknown keys gives three), each naming its key path and,
 * where it helps, the value found and the keys that would have been valid.
 */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], root: z.ZodType): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const at = keyPath(issue.path);
    const got = `got ${describeValue(issue.input)}`;
    switch (issue.code) {
      case 'invalid_type':
        out.push({
          path: at,
          message:
            issue.input === undefined
              ? `is required (${expectedText(issue.expected)})`
              : `expected ${expectedText(issue.expected)}, ${got}`,
        });
        break;
      case 'unrecognized_keys': {
        const known = keysAt(root, issue.path);
        for (const key of issue.keys) {
          const hint = closest(key, known);
          out.push({
            path: keyPath([...issue.path, key]),
            message: `unknown key${hint ? ` (did you mean ${hint}?)` : known.length ? ` (known keys: ${known.join(', ')})` : ''}`,
          });
        }
        break;
      }
      case 'too_small':
      case 'too_big': {
        const origin = issue.origin === 'number' && isIntegerAt(root, issue.path) ? 'int' : issue.origin;
        const small = issue.code === 'too_small';
        const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        out.push({ path: at, message: `${bound({ ...issue, origin }, limit, small)}, ${got}` });
        break;
      }
      case 'invalid_value': {
        const allowed =
          issue.values.length === 1
            ? describeValue(issue.values[0])
            : `one of ${issue.values.map((v) => describeValue(v)).join(', ')}`;
        out.push({
          path: at,
          message: issue.input === undefined ? `is required (${allowed})` : `expected ${allowed}, ${got}`,
        });
        break;
      }
      case 'invalid_union':
        out.push({ path: at, message: `expected a string, number or boolean, ${got}` });
        break;
      case 'invalid_format':
        out.push({ path: at, message: `${issue.message}, ${got}` });
        break;
      case 'custom':
        // A refinement of an object reports the whole object as its input, which would
        // mislead ("got an object" for a missing key): show only simple values.
        out.push({
          path: at,
          message:
            issue.input === null || (typeof issue.input !== 'object' && issue.input !== undefined)
              ? `${issue.message}, ${got}`
              : issue.message,
        });
        break;
      default:
        out.push({ path: at, message: issue.message });
    }
  }
  return out;
}

type SchemaDef = {
  type: string;
  format?: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
};

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** The schema at `path`, looking through defaults, optionals and transforms; undefined if none. */
function schemaAt(root: z.ZodType, path: readonly PropertyKey[]): SchemaDef | undefined {
  let schema: z.ZodType | undefined = root;
  let i = 0;
  while (schema) {
    const def = defOf(schema);
    if (def.innerType) schema = def.innerType;
    else if (def.type === 'pipe') schema = def.in;
    else if (i === path.length) return def;
    else if (def.type === 'object' && def.shape) schema = def.shape[String(path[i++])];
    else if (def.type === 'array') {
      schema = def.element;
      i++;
    } else return undefined;
  }
  return undefined;
}

/** The keys the object schema at `path` accepts, for "did you mean" hints. */
function keysAt(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  const def = schemaAt(root, path);
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function isIntegerAt(root: z.ZodType, path: readonly PropertyKey[]): boolean {
  const def = schemaAt(root, path);
  return def?.type === 'number' && def.format === 'safeint';
}

function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  // A third of the length: catches typos and transpositions, not unrelated words.
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: edits and adjacent swaps ("prot" is one step from "port"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
