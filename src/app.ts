import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { createAuthenticator } from './auth/authenticator.js';
import { builtinJobTypes } from './builtins/index.js';
import type { UwsConfig } from './config/schema.js';
import { commandExecutor } from './exec/executors/command.js';
import { type JobTypeDefinition, JobTypeRegistry } from './exec/job-type.js';
import { Reaper } from './exec/reaper.js';
import { Scheduler, type SchedulerLogger, type SchedulerOptions } from './exec/scheduler.js';
import { createHttpServer } from './http/server.js';
import { workDirStager } from './http/uploads.js';
import { OwnerAdmission } from './limits/admission.js';
import type { LimitSettings } from './limits/settings.js';
import { logJobRuns, registerObservability, UwsMetrics } from './observability/index.js';
import { createRemoteFetcher } from './results/fetch-upload.js';
import { createResultWriter } from './results/result-files.js';
import { WorkDirs } from './results/workdirs.js';
import { isPublicUrl } from './security/fetch-policy.js';
import { createHttpGuard } from './security/http-guard.js';
import { type RemoteFetcher, UwsService } from './service.js';
import { openStore } from './store/index.js';
import type { JobStore } from './store/types.js';
import { createWebPages } from './web/index.js';

/** Everything a UWS needs, with defaults that work with no set-up at all. */
export interface UwsOptions {
  /** A store, or its URL (`sqlite:/path/file.db`, `postgres://...`). Default `sqlite:./var/uws.db`. */
  readonly store?: JobStore | string;
  /** Root of the per-job working directories. Default `./var/jobs`. */
  readonly workDir?: string;
  readonly jobTypes?: readonly JobTypeDefinition[];
  /** Also offer the built-in demonstration job types. Default: only when no job types are given. */
  readonly builtins?: boolean;
  /** Run jobs in this process (false for a node that only serves HTTP). Default true. */
  readonly runJobs?: boolean;
  readonly nodeId?: string;
  /** Run limit over all nodes. Default: the number of CPUs. */
  readonly maxExecuting?: number;
  readonly maxExecutingPerOwner?: number;
  readonly leaseSeconds?: number;
  readonly destructionSweepSeconds?: number;
  readonly destructionPolicy?: 'delete' | 'archive';
  readonly fetchRemote?: RemoteFetcher;
  /** Per-request and per-owner limits checked by the service (src/limits/); none when not given. */
  readonly limits?: Partial<LimitSettings>;
  readonly log?: SchedulerLogger;
  /** Told of every job this node ran once it ended (metrics: queue wait and run time). */
  readonly onJobFinished?: SchedulerOptions['onFinished'];
}

/** A running UWS: the facade plus the machinery that runs and reaps jobs. */
export interface UwsInstance {
  readonly service: UwsService;
  readonly store: JobStore;
  readonly workDirs: WorkDirs;
  readonly scheduler: Scheduler | null;
  readonly reaper: Reaper;
  /** Starts running queued jobs and reaping expired ones. */
  start(): Promise<void>;
  /** Stops taking work; running jobs get `drainMs` to finish, then are handed back. Closes the store. */
  stop(drainMs?: number): Promise<void>;
}

/**
 * The library entry point: a UWS with the given job types on the given store.
 * Serve it over HTTP with `createHttpServer` (src/http/server.ts).
 */
export async function createUwsService(options: UwsOptions = {}): Promise<UwsInstance> {
  const store =
    typeof options.store === 'object'
      ? options.store
      : await openStore(options.store ?? 'sqlite:./var/uws.db');
  const workDirs = new WorkDirs(options.workDir ?? './var/jobs');
  const definitions = [
    ...(options.jobTypes ?? []),
    ...((options.builtins ?? (options.jobTypes ?? []).length === 0) ? builtinJobTypes() : []),
  ];
  const jobTypes = new JobTypeRegistry(definitions);
  const service = new UwsService({
    store,
    jobTypes,
    files: workDirs,
    ...(options.fetchRemote ? { fetchRemote: options.fetchRemote } : {}),
    ...(options.limits ? { admission: new OwnerAdmission(store, options.limits) } : {}),
    destructionPolicy: options.destructionPolicy ?? 'delete',
  });
  const maxExecuting = options.maxExecuting ?? availableParallelism();
  const scheduler =
    options.runJobs === false
      ? null
      : new Scheduler({
          store,
          jobTypes,
          files: {
            ensure: (jobId) => workDirs.ensure(jobId),
            resultWriter: (jobId, record) => createResultWriter(workDirs, jobId, record),
          },
          maxExecuting,
          maxExecutingPerOwner: options.maxExecutingPerOwner ?? maxExecuting,
          leaseMs: (options.leaseSeconds ?? 30) * 1000,
          ...(options.nodeId ? { nodeId: options.nodeId } : {}),
          ...(options.log ? { log: options.log } : {}),
          ...(options.onJobFinished ? { onFinished: options.onJobFinished } : {}),
        });
  const reaper = new Reaper({
    store,
    expire: (jobId) => service.expire(jobId),
    listDirectories: async () => {
      const ids = await workDirs.listJobIds();
      const out: { jobId: string; mtimeMs: number }[] = [];
      for (const jobId of ids) {
        const st = await stat(workDirs.path(jobId)).catch(() => null);
        if (st) out.push({ jobId, mtimeMs: st.mtimeMs });
      }
      return out;
    },
    removeDirectory: (jobId) => workDirs.remove(jobId),
    sweepMs: (options.destructionSweepSeconds ?? 300) * 1000,
    ...(options.log ? { log: options.log } : {}),
  });
  service.onDestructionSet = (destruction) => reaper.noteDestruction(destruction);
  let stopped = false;
  return {
    service,
    store,
    workDirs,
    scheduler,
    reaper,
    async start() {
      await scheduler?.start();
      reaper.start();
    },
    async stop(drainMs = 0) {
      if (stopped) return;
      stopped = true;
      await reaper.stop();
      await scheduler?.stop(drainMs);
      service.close();
      await store.close();
    },
  };
}

/** Job type definitions for the command-line job types of a config file. */
export function jobTypesFromConfig(config: UwsConfig): JobTypeDefinition[] {
  return config.jobTypes.map((t) => ({
    name: t.name,
    ...(t.description !== undefined ? { description: t.description } : {}),
    parameters: t.parameters,
    timePolicy: { executionDuration: t.executionDuration, lifetime: t.lifetime },
    ...(t.maxExecuting !== undefined ? { maxExecuting: t.maxExecuting } : {}),
    ...(t.restartable !== undefined ? { restartable: t.restartable } : {}),
    ...(t.mainResult !== undefined ? { mainResult: t.mainResult } : {}),
    executor: commandExecutor({
      command: t.command,
      ...(t.env ? { env: t.env } : {}),
      ...(t.inheritEnv !== undefined ? { inheritEnv: t.inheritEnv } : {}),
      ...(t.resultMediaTypes ? { resultMediaTypes: t.resultMediaTypes } : {}),
      gracePeriodMs: t.gracePeriodSeconds * 1000,
    }),
  }));
}

/** The options a config file stands for. */
export function optionsFromConfig(config: UwsConfig, log: Logger, runJobs: boolean): UwsOptions {
  const workDirs = new WorkDirs(config.workDir);
  return {
    store: config.store.url,
    workDir: config.workDir,
    jobTypes: jobTypesFromConfig(config),
    builtins: config.builtins,
    runJobs,
    nodeId: config.nodeId,
    maxExecuting: config.scheduler.maxExecuting,
    maxExecutingPerOwner: config.scheduler.maxExecutingPerOwner,
    leaseSeconds: config.scheduler.leaseSeconds,
    destructionSweepSeconds: config.scheduler.destructionSweepSeconds,
    destructionPolicy: config.destruction.policy,
    limits: config.limits,
    ...(config.uploads.allowByReference
      ? {
          fetchRemote: createRemoteFetcher(workDirs, {
            limitBytes: config.uploads.maxBytes,
            timeoutMs: config.uploads.fetchTimeoutSeconds * 1000,
            ...(config.uploads.allowPrivateAddresses ? {} : { allowUrl: isPublicUrl }),
          }),
        }
      : {}),
    log,
  };
}

export function createLogger(config: UwsConfig, toStderr = false): Logger {
  const options = { level: config.log.level, base: { node: config.nodeId } };
  return toStderr ? pino(options, pino.destination(2)) : pino(options);
}

/** `ivoa-uws serve`: HTTP plus (by default) the scheduler in one process. */
export async function startServer(
  config: UwsConfig,
  options: { runJobs?: boolean } = {},
): Promise<{ url: string; uws: UwsInstance; http: FastifyInstance; stop(): Promise<void> }> {
  const log = createLogger(config);
  // Before anything starts: a missing password file or a bad key stops here.
  const guard = createHttpGuard({
    authenticator: createAuthenticator(config.auth),
    jobsPerMinute: config.limits.jobsPerMinute,
    ...(config.limits.jobsBurst !== undefined ? { jobsBurst: config.limits.jobsBurst } : {}),
    maxWaitsPerOwner: config.limits.maxWaitsPerOwner,
    authFailuresPerMinute: config.limits.authFailuresPerMinute,
  });
  const metrics = new UwsMetrics();
  const logRun = logJobRuns(log);
  const uws = await createUwsService({
    ...optionsFromConfig(config, log, options.runJobs ?? true),
    onJobFinished: (job, outcome, queuedMs, runMs) => {
      metrics.jobFinished(job, outcome, queuedMs, runMs);
      logRun(job, outcome, queuedMs, runMs);
    },
  });
  const http = createHttpServer({
    service: uws.service,
    stage: workDirStager(uws.workDirs, config.uploads.maxBytes),
    ...(config.server.baseUrl ? { baseUrl: config.server.baseUrl } : {}),
    trustProxy: config.server.trustProxy,
    maxWaitSeconds: config.wait.maxSeconds,
    bodyLimit: config.server.bodyLimitBytes,
    uploads: { maxFileBytes: config.uploads.maxBytes, maxFiles: config.uploads.maxFiles },
    identify: guard.identify,
    loggerInstance: log,
    // Browsers get pages on the job list and job URLs (issue 7); programs keep XML.
    web: createWebPages(),
  });
  guard.install(http);
  // Observability (issue 7): /metrics, /openapi.json, jobId on request log lines.
  metrics.attach(uws.service, () => uws.scheduler?.runningCount ?? 0);
  registerObservability(http, uws.service, metrics, {
    ...(config.server.baseUrl ? { serverUrl: config.server.baseUrl } : {}),
  });
  await uws.start();
  let address: string;
  try {
    address = await http.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    await uws.stop();
    throw err;
  }
  const url = config.server.baseUrl ?? address;
  log.info({ url, store: redact(config.store.url), workDir: config.workDir }, 'ivoa-uws serving');
  return {
    url,
    uws,
    http,
    async stop() {
      await http.close();
      await uws.stop(DRAIN_MS);
    },
  };
}

/** `ivoa-uws worker`: runs jobs from the shared store, serves no HTTP. */
export async function startWorker(config: UwsConfig): Promise<{ uws: UwsInstance; stop(): Promise<void> }> {
  const log = createLogger(config);
  const uws = await createUwsService({
    ...optionsFromConfig(config, log, true),
    onJobFinished: logJobRuns(log),
  });
  await uws.start();
  log.info({ store: redact(config.store.url), nodeId: config.nodeId }, 'ivoa-uws worker running');
  return { uws, stop: () => uws.stop(DRAIN_MS) };
}

/** The facade on the configured store, for the admin CLI: runs nothing, reaps nothing. */
export async function openAdmin(config: UwsConfig): Promise<{ service: UwsService; close(): Promise<void> }> {
  // Admin commands print their own output on stdout (e.g. JSON): logs go to stderr.
  const log = createLogger({ ...config, log: { level: 'warn' } }, true);
  const uws = await createUwsService(optionsFromConfig(config, log, false));
  return { service: uws.service, close: () => uws.stop() };
}

/** How long a stopping node lets running jobs finish before handing them back. */
const DRAIN_MS = 10_000;

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
