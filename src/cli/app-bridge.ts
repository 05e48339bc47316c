import type { UwsConfig } from '../config/schema.js';
import type { UwsService } from '../service.js';

/** What the CLI needs of src/app.ts (the lead's composition root). */
export interface AppModule {
  startServer(
    config: UwsConfig,
    options?: { runJobs?: boolean },
  ): Promise<{ url: string; stop(): Promise<void> }>;
  startWorker(config: UwsConfig): Promise<{ stop(): Promise<void> }>;
  openAdmin(config: UwsConfig): Promise<{ service: UwsService; close(): Promise<void> }>;
}

/**
 * Loads one entry point of src/app.ts on first use. The import is dynamic so that
 * `config check`, `--help` and friends never load the server, the store driver or
 * the executors.
 */
export async function appFunction<K extends keyof AppModule>(name: K): Promise<AppModule[K]> {
  // A variable specifier keeps the compiler from resolving the module at build time.
  const specifier = '../app.js';
  const app = (await import(specifier)) as Partial<AppModule>;
  const fn = app[name];
  if (typeof fn !== 'function') throw new Error(`the server module (src/app.ts) does not export ${name}`);
  return fn as AppModule[K];
}
