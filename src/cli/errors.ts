import { CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { UwsError } from '../core/errors.js';

/** Exit codes: 0 done; 1 the command ran but failed (job not found, invalid file checked); 2 could not start. */
export const EXIT_FAILED = 1;
export const EXIT_CANNOT_START = 2;

/** A failure the CLI reports in one line, with its own exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_FAILED) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/**
 * Runs a start-up step (loading the app, opening the store, listening); any error
 * becomes a CliError with exit code 2, keeping its message.
 */
export async function atStartup<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof CliError || err instanceof ConfigError) throw err;
    const error = err as NodeJS.ErrnoException;
    const message =
      error.code === 'ERR_MODULE_NOT_FOUND' && /app\.(js|ts)/.test(error.message)
        ? 'this installation has no server module (src/app.ts is missing)'
        : (error.message ?? String(err));
    const wrapped = new CliError(message, EXIT_CANNOT_START);
    wrapped.cause = err;
    throw wrapped;
  }
}

/**
 * Prints an error the way an operator wants it: one line (a ConfigError lists its
 * problems below), no stack unless IVOA_UWS_DEBUG is set. Returns the exit code.
 */
export function reportError(
  err: unknown,
  write: (text: string) => void = (t) => process.stderr.write(t),
): number {
  if (err instanceof CommanderError) {
    // Commander has printed the message or the help already.
    return err.exitCode === 0 ? 0 : EXIT_CANNOT_START;
  }
  let exitCode = EXIT_FAILED;
  let message: string;
  if (err instanceof ConfigError) {
    exitCode = EXIT_CANNOT_START;
    message = err.message;
  } else if (err instanceof CliError) {
    exitCode = err.exitCode;
    message = err.message;
  } else if (err instanceof UwsError) {
    message = err.message;
  } else if (err instanceof Error) {
    message = err.message.split('\n')[0] ?? err.message;
  } else {
    message = String(err);
  }
  write(`ivoa-uws: ${message}\n`);
  if (process.env.IVOA_UWS_DEBUG && err instanceof Error && !(err instanceof ConfigError)) {
    write(`${(err.cause instanceof Error ? err.cause : err).stack}\n`);
  }
  return exitCode;
}
