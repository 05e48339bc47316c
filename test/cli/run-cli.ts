import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const mainScript = path.join(repoRoot, 'src', 'cli', 'main.ts');
/** tsx resolved from here, so that the CLI can run in any working directory. */
const tsxLoader = import.meta.resolve('tsx');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without any IVOA_UWS_* setting of the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IVOA_UWS_')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs the real CLI (through tsx, no build) as a child process and collects what it printed. */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', tsxLoader, mainScript, ...args],
      { cwd: options.cwd ?? repoRoot, env: cleanEnv(options.env), timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number' && error.code !== undefined) {
          reject(error);
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}
