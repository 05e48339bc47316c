import type { Caller, UwsService } from '../service.js';
import { appFunction } from './app-bridge.js';
import { type ConfigOptionValues, configFromOptions } from './config-options.js';
import { atStartup } from './errors.js';

/** The operator at the console sees and may change every job. */
export const ADMIN: Caller = { ownerId: null, admin: true };

/** Opens the configured store through the app, runs `work`, and always closes it again. */
export async function withAdmin<T>(
  options: ConfigOptionValues,
  work: (service: UwsService) => Promise<T>,
): Promise<T> {
  const config = configFromOptions(options);
  const admin = await atStartup(async () => (await appFunction('openAdmin'))(config));
  try {
    return await work(admin.service);
  } finally {
    await admin.close();
  }
}
