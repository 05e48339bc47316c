import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { ConfigProblem } from './problems.js';
import type { UwsConfig } from './schema.js';

/**
 * What a valid configuration may still lack on this machine: programs of command
 * job types that are not found, files named by `...File` settings that cannot be
 * read (relative ones are taken from `cwd`, the server's start directory).
 * Warnings, not errors: `config check` may well run on another host than the server.
 */
export function hostWarnings(
  config: UwsConfig,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  config.jobTypes.forEach((jobType, i) => {
    const program = jobType.command[0];
    // A program chosen by a placeholder is only known per job.
    if (program === undefined || program.includes('${')) return;
    const problem = programProblem(program, env.PATH ?? '');
    if (problem) out.push({ path: `jobTypes[${i}].command[0]`, message: problem });
  });
  for (const [keyPath, file] of fileSettings(config.auth, 'auth')) {
    const problem = readableProblem(path.resolve(cwd, file));
    if (problem) out.push({ path: keyPath, message: `${file}: ${problem}` });
  }
  return out;
}

function programProblem(program: string, searchPath: string): string | null {
  if (program.includes('/')) {
    // The process starts in the job's own directory, so a relative path would be looked up there.
    if (!path.isAbsolute(program)) {
      return `${program} is relative, so each job would look for it in its own working directory; give an absolute path`;
    }
    const problem = executableProblem(program);
    return problem ? `${program}: ${problem}` : null;
  }
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir !== '' && executableProblem(path.join(dir, program)) === null) return null;
  }
  return `${program} is not found on PATH`;
}

function executableProblem(file: string): string | null {
  try {
    if (!statSync(file).isFile()) return 'not a file';
    accessSync(file, constants.X_OK);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not executable';
  }
}

function readableProblem(file: string): string | null {
  try {
    if (!statSync(file).isFile()) return 'not a file';
    accessSync(file, constants.R_OK);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not readable';
  }
}

/** Every string setting whose key ends in `File`, with its key path. */
function fileSettings(value: unknown, at: string): [string, string][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const out: [string, string][] = [];
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' && /File$/.test(key)) out.push([`${at}.${key}`, v]);
    else out.push(...fileSettings(v, `${at}.${key}`));
  }
  return out;
}
