import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { builtinJobTypes } from './builtins/index.js';
import { type JobTypeDefinition, JobTypeRegistry } from './exec/job-type.js';
import { Reaper } from './exec/reaper.js';
import { Scheduler, type SchedulerLogger } from './exec/scheduler.js';
import { createResultWriter } from './results/result-files.js';
import { WorkDirs } from './results/workdirs.js';
import { type RemoteFetcher, UwsService } from './service.js';
import { openStore } from './store/index.js';
import type { JobStore } from './store/types.js';

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
  readonly log?: SchedulerLogger;
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
