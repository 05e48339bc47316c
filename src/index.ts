/**
 * The public library API of ivoa-uws: create a UWS with your job types, serve it
 * with the HTTP layer, or drive the facade directly.
 */
export {
  createUwsService,
  jobTypesFromConfig,
  openAdmin,
  startServer,
  startWorker,
  type UwsInstance,
  type UwsOptions,
} from './app.js';
export { builtinJobTypes } from './builtins/index.js';
export { type ConfigError, loadConfig } from './config/index.js';
export type { UwsConfig } from './config/schema.js';
export * from './core/index.js';
export { type CommandExecutorOptions, commandExecutor } from './exec/executors/command.js';
export { type InProcessHandler, inProcessExecutor } from './exec/executors/in-process.js';
export { threadExecutor } from './exec/executors/thread.js';
export type { JobTypeDefinition } from './exec/job-type.js';
export { Reaper } from './exec/reaper.js';
export { Scheduler } from './exec/scheduler.js';
export type { ExecutionContext, ExecutionOutcome, Executor, ResultWriter } from './exec/types.js';
export { createHttpServer, type HttpServerOptions, workDirStager } from './http/index.js';
export { WorkDirs } from './results/workdirs.js';
export { ANONYMOUS, type Caller, type RawParameter, type StagedFile, UwsService } from './service.js';
export { openStore, storeFromUrl } from './store/index.js';
export { PostgresJobStore } from './store/postgres/store.js';
export { SqliteJobStore } from './store/sqlite/store.js';
export type { JobStore } from './store/types.js';
