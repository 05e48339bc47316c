import type { Command } from 'commander';
import { hostWarnings } from '../../config/host-checks.js';
import { ConfigError, loadConfig } from '../../config/load.js';
import { formatProblem } from '../../config/problems.js';
import { type ConfigOptionValues, configFromOptions, withConfigOptions } from '../config-options.js';
import { CliError, EXIT_FAILED } from '../errors.js';
import { redactPassword } from '../format.js';

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('check a config file, or show the effective configuration');

  config
    .command('check')
    .description(
      'validate a config file and name every bad key (exit 1 if there is any); the environment is ignored',
    )
    .argument('<file>', 'JSON config file')
    .action((file: string) => {
      let summary: string;
      try {
        const checked = loadConfig({ file, env: {} });
        const types = checked.jobTypes.length;
        const warnings = hostWarnings(checked);
        for (const w of warnings) process.stdout.write(`${file}: warning: ${formatProblem(w)}\n`);
        summary = `${file}: valid (${types} job type${types === 1 ? '' : 's'}${
          checked.builtins ? ' plus the built-in ones' : ''
        }, store ${redactPassword(checked.store.url)})${
          warnings.length > 0
            ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'} about this host`
            : ''
        }`;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        // One line per problem, compiler style, so that editors and grep can use them.
        for (const problem of err.problems) {
          process.stdout.write(err.file === undefined ? `${problem}\n` : `${file}: ${problem}\n`);
        }
        const n = err.problems.length;
        throw new CliError(`${file} has ${n} problem${n === 1 ? '' : 's'}`, EXIT_FAILED);
      }
      process.stdout.write(`${summary}\n`);
    });

  withConfigOptions(
    config
      .command('show')
      .description('print the effective configuration as JSON: defaults < file < IVOA_UWS_* < options'),
    ['host', 'port', 'store', 'workDir', 'baseUrl'],
  )
    .option('--show-secrets', 'print passwords in URLs instead of ***')
    .action((options: ConfigOptionValues & { showSecrets?: boolean }) => {
      const config = configFromOptions(options);
      // The output ends up in terminals, tickets and CI logs; a database password should not.
      const shown = options.showSecrets
        ? config
        : { ...config, store: { ...config.store, url: redactPassword(config.store.url) } };
      process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    });
}
