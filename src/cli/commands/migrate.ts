import type { Command } from 'commander';
import { openStore } from '../../store/index.js';
import { type ConfigOptionValues, configFromOptions, withConfigOptions } from '../config-options.js';
import { atStartup } from '../errors.js';
import { redactPassword } from '../format.js';

export function registerMigrate(program: Command): void {
  const migrate = program
    .command('migrate')
    .description('create the job store schema or bring it up to date (safe to repeat)');
  withConfigOptions(migrate, ['store']).action(async (options: ConfigOptionValues) => {
    const config = configFromOptions(options);
    // openStore runs the migrations (in one transaction per step, safe against a concurrent start).
    const store = await atStartup(() => openStore(config.store.url));
    await store.close();
    process.stdout.write(
      `ivoa-uws: the ${store.kind} store ${redactPassword(config.store.url)} is up to date\n`,
    );
  });
}
