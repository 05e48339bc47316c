import { Command } from 'commander';
import { registerCleanup } from './commands/cleanup.js';
import { registerConfig } from './commands/config.js';
import { registerJobs } from './commands/jobs.js';
import { registerMigrate } from './commands/migrate.js';
import { registerServe } from './commands/serve.js';
import { registerWorker } from './commands/worker.js';
import { packageVersion } from './version.js';

/** The `ivoa-uws` command line; errors are thrown (exitOverride) for main.ts to report. */
export function buildProgram(): Command {
  const program = new Command('ivoa-uws')
    .description('IVOA Universal Worker Service (UWS 1.1): run the server, or administer its jobs')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    // Inherited by every subcommand registered below.
    .exitOverride()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false });
  registerServe(program);
  registerWorker(program);
  registerMigrate(program);
  registerJobs(program);
  registerCleanup(program);
  registerConfig(program);
  program.addHelpText(
    'after',
    `
Settings come from defaults, then --config <file> (or $IVOA_UWS_CONFIG), then the
IVOA_UWS_HOST, _PORT, _BASE_URL, _STORE, _WORK_DIR and _LOG_LEVEL variables, then options.
Exit codes: 0 done, 1 the command failed, 2 it could not start (bad configuration or options).`,
  );
  return program;
}
