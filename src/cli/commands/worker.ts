import type { Command } from 'commander';
import { appFunction } from '../app-bridge.js';
import { type ConfigOptionValues, configFromOptions, withConfigOptions } from '../config-options.js';
import { atStartup } from '../errors.js';
import { redactPassword } from '../format.js';
import { stopOnSignal } from '../signals.js';

export function registerWorker(program: Command): void {
  const worker = program
    .command('worker')
    .description('run queued jobs from the store without an HTTP interface (one of several nodes)');
  withConfigOptions(worker, ['store', 'workDir']).action(async (options: ConfigOptionValues) => {
    const config = configFromOptions(options);
    const worker = await atStartup(async () => (await appFunction('startWorker'))(config));
    process.stdout.write(
      `ivoa-uws: worker ${config.nodeId} running jobs from ${redactPassword(config.store.url)}\n`,
    );
    await stopOnSignal('worker', () => worker.stop());
  });
}
