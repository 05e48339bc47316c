import type { Command } from 'commander';
import { appFunction } from '../app-bridge.js';
import { type ConfigOptionValues, configFromOptions, withConfigOptions } from '../config-options.js';
import { atStartup } from '../errors.js';
import { stopOnSignal } from '../signals.js';

export function registerServe(program: Command): void {
  const serve = program
    .command('serve')
    .description('run the UWS server: HTTP interface and job runner (stops on SIGINT/SIGTERM)');
  serve.option(
    '--http-only',
    'serve HTTP but run no jobs: one of several nodes whose jobs `ivoa-uws worker` processes run',
  );
  withConfigOptions(serve, ['host', 'port', 'store', 'workDir', 'baseUrl']).action(
    async (options: ConfigOptionValues & { httpOnly?: boolean }) => {
      const config = configFromOptions(options);
      const runJobs = options.httpOnly !== true;
      const server = await atStartup(async () => (await appFunction('startServer'))(config, { runJobs }));
      process.stdout.write(`ivoa-uws: serving on ${server.url}\n`);
      await stopOnSignal('server', () => server.stop());
    },
  );
}
