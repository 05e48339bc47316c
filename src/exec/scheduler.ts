import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ErrorSummary, Job, JobResult } from '../core/job.js';
import type { ParameterValue } from '../core/parameters.js';
import { END_PHASES } from '../core/phases.js';
import { type TransitionExtras, transitionJob } from '../store/transition.js';
import type { JobChange, JobStore } from '../store/types.js';
import type { JobType, JobTypeRegistry } from './job-type.js';
import type { ExecutionOutcome, ResultWriter } from './types.js';

/** What the scheduler needs of the working directories (results/). */
export interface RunnerFiles {
  /** Creates the job's directory if needed; returns its path. */
  ensure(jobId: string): Promise<string>;
  /** A writer whose results land in the job's directory and are recorded through `record`. */
  resultWriter(jobId: string, record: (result: JobResult) => Promise<void>): ResultWriter;
}

export interface SchedulerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SchedulerOptions {
  readonly store: JobStore;
  readonly jobTypes: JobTypeRegistry;
  readonly files: RunnerFiles;
  /** Unique per running process; `host-pid` by default so a dead process on this host can be recognised. */
  readonly nodeId?: string;
  /** Run limit over all nodes (the seed's runcountGoal). */
  readonly maxExecuting: number;
  readonly maxExecutingPerOwner?: number;
  /** How long a lease lasts without renewal; renewed every third of it. */
  readonly leaseMs?: number;
  /**
   * Fallback poll for queued work that no event announced, and the check for
   * expired leases; it runs at least every third of a lease, so a dead runner's
   * job is resolved within one lease period.
   */
  readonly pollMs?: number;
  /** Results of a job still running this long after being written are stored at once; earlier ones go with the final phase change. */
  readonly resultFlushMs?: number;
  readonly now?: () => number;
  readonly log?: SchedulerLogger;
  /** Observers for metrics: called after each job this node ran has ended. */
  readonly onFinished?: (job: Job, outcome: ExecutionOutcome, queuedMs: number, runMs: number) => void;
}

interface Running {
  readonly job: Job;
  readonly controller: AbortController;
  /** Why the work is being stopped, once it is. */
  stopReason: 'client' | 'duration' | 'lease-lost' | 'shutdown' | null;
  durationTimer: NodeJS.Timeout | null;
  readonly done: Promise<void>;
  /** The job as last stored by this runner, so the final transition needs no extra read. */
  latest: Job;
  /** Results written but not yet stored: they go with the final transition, or a flush if the job runs on. */
  pending: JobResult[];
  flushTimer: NodeJS.Timeout | null;
  /** A flush in flight: the final transition waits for it, or its results could be lost. */
  flushing: Promise<void> | null;
}

const NOOP_LOG: SchedulerLogger = { info() {}, warn() {}, error() {} };

/**
 * Starts QUEUED jobs up to the run limits and sees each to its end (issue 4):
 * event-driven dispatch (a job queued anywhere in this process starts within
 * milliseconds), leases renewed while a job runs, executionDuration enforced by
 * aborting the work, client aborts and deletions propagated to the work, expired
 * leases of dead runners resolved, and a graceful stop that never loses a job.
 */
export class Scheduler {
  readonly nodeId: string;
  private readonly store: JobStore;
  private readonly jobTypes: JobTypeRegistry;
  private readonly files: RunnerFiles;
  private readonly maxExecuting: number;
  private readonly maxExecutingPerOwner: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly resultFlushMs: number;
  private readonly now: () => number;
  private readonly log: SchedulerLogger;
  private readonly onFinished: SchedulerOptions['onFinished'];
  private readonly running = new Map<string, Running>();
  private dispatching = false;
  /** How many claims may find a job: a count of jobs queued since the last empty claim, or unknown. */
  private claimable = Number.POSITIVE_INFINITY;
  private hintEpoch = 0;
  private dispatchAgain = false;
  private stopped = true;
  private unwatch: (() => void) | null = null;
  private unresync: (() => void) | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private poller: NodeJS.Timeout | null = null;

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.jobTypes = options.jobTypes;
    this.files = options.files;
    this.nodeId = options.nodeId ?? `${hostname()}-${process.pid}`;
    this.maxExecuting = options.maxExecuting;
    this.maxExecutingPerOwner = options.maxExecutingPerOwner ?? options.maxExecuting;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 2_000;
    this.resultFlushMs = options.resultFlushMs ?? 250;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? NOOP_LOG;
    this.onFinished = options.onFinished;
  }

  /** Number of jobs this node is running now. */
  get runningCount(): number {
    return this.running.size;
  }

  runningJobIds(): string[] {
    return [...this.running.keys()];
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.unwatch = this.store.watch((change) => this.onChange(change));
    this.unresync = this.store.onResync(() => void this.resync());
    await this.recover();
    this.heartbeat = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
    this.poller = setInterval(
      () => {
        this.kick();
        void this.resolveExpiredLeases();
      },
      Math.min(this.pollMs, Math.max(100, Math.floor(this.leaseMs / 3))),
    );
    this.poller.unref();
    this.kick();
  }

  /**
   * Stops taking work; running jobs get `drainMs` to finish, then are stopped and
   * handed back: QUEUED again when their type is restartable, ERROR otherwise.
   */
  async stop(drainMs = 0): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unwatch?.();
    this.unwatch = null;
    this.unresync?.();
    this.unresync = null;
    if (this.poller) clearInterval(this.poller);
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    if (drainMs > 0 && this.running.size > 0) {
      await Promise.race([all(), new Promise((resolve) => setTimeout(resolve, drainMs))]);
    }
    for (const r of this.running.values()) this.halt(r, 'shutdown');
    await all();
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  /**
   * Asks for a dispatch round; cheap to call often (rounds never overlap). `queued`
   * says one more job was queued; anything else leaves it unknown how many wait.
   */
  kick(hint: 'queued' | 'unknown' = 'unknown'): void {
    if (this.stopped) return;
    this.hintEpoch++;
    this.claimable = hint === 'queued' ? this.claimable + 1 : Number.POSITIVE_INFINITY;
    this.round();
  }

  private round(): void {
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    void this.dispatch().finally(() => {
      this.dispatching = false;
      if (this.dispatchAgain) {
        this.dispatchAgain = false;
        this.round();
      }
    });
  }

  /**
   * Claims while slots are free and a claim can succeed. Each claim is a write
   * transaction, so none is made when the queue is known to be empty: after an
   * empty claim, only a new hint (a job queued, a slot freed) starts another.
   */
  private async dispatch(): Promise<void> {
    const types = this.jobTypes.all().map((t) => ({ name: t.name, maxExecuting: t.maxExecuting }));
    while (!this.stopped && this.running.size < this.maxExecuting && this.claimable > 0) {
      const epoch = this.hintEpoch;
      let job: Job | null;
      try {
        job = await this.store.claimNext({
          nodeId: this.nodeId,
          now: this.now(),
          leaseMs: this.leaseMs,
          maxExecuting: this.maxExecuting,
          maxExecutingPerOwner: this.maxExecutingPerOwner,
          jobTypes: types,
        });
      } catch (err) {
        this.log.error({ err }, 'claiming a queued job failed');
        return;
      }
      if (!job) {
        // A hint that came in during the claim may be for a job the claim did not see yet.
        if (this.hintEpoch === epoch) this.claimable = 0;
        continue;
      }
      this.claimable--;
      this.launch(job);
    }
  }

  private launch(job: Job): void {
    const type = this.jobTypes.get(job.jobType);
    const controller = new AbortController();
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const entry: Running = {
      job,
      controller,
      stopReason: null,
      durationTimer: null,
      done,
      latest: job,
      pending: [],
      flushTimer: null,
      flushing: null,
    };
    this.running.set(job.jobId, entry);
    if (job.executionDuration > 0) {
      entry.durationTimer = setTimeout(() => this.halt(entry, 'duration'), job.executionDuration * 1000);
    }
    void this.execute(entry, type)
      .catch((err) => this.log.error({ err, jobId: job.jobId }, 'job bookkeeping failed'))
      .finally(() => {
        if (entry.durationTimer) clearTimeout(entry.durationTimer);
        this.running.delete(job.jobId);
        resolveDone();
        this.kick();
      });
  }

  private halt(entry: Running, reason: NonNullable<Running['stopReason']>): void {
    if (entry.stopReason) return;
    entry.stopReason = reason;
    entry.controller.abort(reason);
  }

  private async execute(entry: Running, type: JobType | undefined): Promise<void> {
    const { job } = entry;
    const started = this.now();
    let outcome: ExecutionOutcome;
    if (!type) {
      outcome = {
        status: 'error',
        summary: { type: 'fatal', message: `this node has no job type ${job.jobType}`, hasDetail: false },
      };
    } else {
      try {
        const workDir = await this.files.ensure(job.jobId);
        const record = async (result: JobResult) => {
          entry.pending = [...entry.pending.filter((r) => r.id !== result.id), result];
          if (!entry.flushTimer) {
            entry.flushTimer = setTimeout(() => {
              entry.flushing = this.flush(entry).catch(() => {});
            }, this.resultFlushMs);
          }
        };
        const parameters = withPaths(type.schema.decodeAll(job.parameters), job, workDir);
        outcome = await type.executor.execute({
          job,
          parameters,
          workDir,
          signal: entry.controller.signal,
          results: this.files.resultWriter(job.jobId, record),
          log: (message) => this.log.info({ jobId: job.jobId }, message),
        });
      } catch (err) {
        outcome = {
          status: 'error',
          summary: { type: 'fatal', message: `the job failed: ${(err as Error).message}`, hasDetail: true },
          detail: (err as Error).stack ?? String(err),
        };
      }
    }
    if (entry.flushTimer) clearTimeout(entry.flushTimer);
    entry.flushTimer = null;
    // A flush still in flight would otherwise race the final transition: if the final
    // change committed first, the flush's lease guard failed and its results were lost.
    await entry.flushing;
    await this.settle(entry, type, outcome);
    this.onFinished?.(job, outcome, started - job.creationTime, this.now() - started);
  }

  /** Records how a run ended, unless the job already ended another way (client abort, deletion, lost lease). */
  private async settle(entry: Running, type: JobType | undefined, outcome: ExecutionOutcome): Promise<void> {
    const { job } = entry;
    const now = this.now();
    const reason = entry.stopReason;
    const addResults = entry.pending;
    entry.pending = [];
    const base = { expect: { leaseNodeId: this.nodeId }, known: entry.latest, addResults };
    if (reason === 'client' || reason === 'lease-lost') {
      await this.keepAfterAbort(entry, addResults);
      return;
    }
    if (reason === 'shutdown') {
      await this.handBack(job.jobId, type, 'interrupted by server shutdown', base);
      return;
    }
    if (reason === 'duration') {
      await transitionJob(this.store, job.jobId, 'ABORTED', 'server', now, {
        ...base,
        errorSummary: {
          type: 'fatal',
          message: `the job reached its execution duration limit of ${job.executionDuration} s and was aborted`,
          hasDetail: false,
        },
      });
      return;
    }
    if (outcome.status === 'completed') {
      await transitionJob(this.store, job.jobId, 'COMPLETED', 'server', now, base);
    } else if (outcome.status === 'error') {
      await transitionJob(this.store, job.jobId, 'ERROR', 'server', now, {
        ...base,
        errorSummary: {
          ...outcome.summary,
          hasDetail: outcome.detail !== undefined || outcome.summary.hasDetail,
        },
        ...(outcome.detail !== undefined ? { errorDetail: outcome.detail } : {}),
      });
    } else {
      await transitionJob(this.store, job.jobId, 'ABORTED', 'server', now, {
        ...base,
        errorSummary: { type: 'transient', message: outcome.reason, hasDetail: false },
      });
    }
  }

  /** Stores results of a job that is still running long enough for a client to look (OBJ-9). */
  private async flush(entry: Running): Promise<void> {
    entry.flushTimer = null;
    if (entry.pending.length === 0 || entry.stopReason) return;
    const batch = entry.pending;
    entry.pending = [];
    const r = await this.store.update(entry.job.jobId, { leaseNodeId: this.nodeId }, { addResults: batch });
    if (r.ok) entry.latest = r.job;
    else entry.pending = [...batch, ...entry.pending];
  }

  /** Results written while an aborted run wound down are kept (PH-5: the job's resources stay intact). */
  private async keepAfterAbort(entry: Running, results: JobResult[]): Promise<void> {
    if (results.length === 0 || entry.stopReason !== 'client') return;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.store.get(entry.job.jobId);
      if (current?.phase !== 'ABORTED') return;
      const kept = await this.store.update(
        current.jobId,
        { phase: 'ABORTED', version: current.version },
        { addResults: results },
      );
      if (kept.ok) return;
    }
  }

  /** A job whose run was cut short by the server: QUEUED again if its type allows, else ERROR. */
  private async handBack(
    jobId: string,
    type: JobType | undefined,
    why: string,
    extras: TransitionExtras = {},
  ): Promise<void> {
    const now = this.now();
    if (type?.restartable) {
      await transitionJob(this.store, jobId, 'QUEUED', 'server', now, extras);
      return;
    }
    const summary: ErrorSummary = { type: 'transient', message: why, hasDetail: false };
    await transitionJob(this.store, jobId, 'ERROR', 'server', now, { ...extras, errorSummary: summary });
  }

  private onChange(change: JobChange): void {
    const mine = this.running.get(change.jobId);
    if (mine) {
      if (change.kind === 'deleted' || (change.phase !== null && change.phase !== 'EXECUTING')) {
        this.halt(mine, 'client');
      }
      // A job of ours frees its slot when its run ends, and that end kicks by itself.
      return;
    }
    // A job was queued somewhere, or one ended elsewhere (under a global limit, a slot may be free).
    // Nothing else can make a claim succeed, so nothing else pays for one.
    if (change.phase === 'QUEUED') this.kick('queued');
    else if (change.phase !== null && END_PHASES.has(change.phase)) this.kick();
  }

  /** Another process may have aborted or deleted a running job, or queued one: look again. */
  private async resync(): Promise<void> {
    for (const [jobId, entry] of this.running) {
      const job = await this.store.get(jobId).catch(() => undefined);
      if (job === undefined) continue;
      if (!job || job.phase !== 'EXECUTING') this.halt(entry, 'client');
    }
    this.kick();
  }

  private async renew(): Promise<void> {
    if (this.running.size === 0) return;
    try {
      const lost = await this.store.renewLeases(
        this.nodeId,
        [...this.running.keys()],
        this.now() + this.leaseMs,
      );
      for (const id of lost) {
        const r = this.running.get(id);
        if (r) {
          this.log.warn({ jobId: id }, 'lease lost: another node resolved this job; stopping the work');
          this.halt(r, 'lease-lost');
        }
      }
    } catch (err) {
      this.log.error({ err }, 'renewing leases failed');
    }
  }

  /**
   * At start: jobs left EXECUTING by a dead process of this host are resolved at
   * once (their pid is gone); jobs of other runners are resolved once their lease
   * expires, by whichever node notices first.
   */
  private async recover(): Promise<void> {
    const host = hostname();
    const now = this.now();
    const orphans: Job[] = [];
    for await (const summary of this.store.list({ phases: ['EXECUTING'] })) {
      const job = await this.store.get(summary.jobId);
      if (!job?.lease) continue;
      if (job.lease.expiresAt < now || isDeadLocalProcess(job.lease.nodeId, host)) orphans.push(job);
    }
    for (const job of orphans) await this.resolveOrphan(job, 'interrupted by server restart');
    await this.resolveExpiredLeases();
  }

  private async resolveExpiredLeases(): Promise<void> {
    try {
      for (const job of await this.store.expiredLeases(this.now(), 100)) {
        await this.resolveOrphan(job, 'the node running the job stopped responding (lease expired)');
      }
    } catch (err) {
      this.log.error({ err }, 'resolving expired leases failed');
    }
  }

  private async resolveOrphan(job: Job, why: string): Promise<void> {
    if (!job.lease) return;
    this.log.warn({ jobId: job.jobId, lease: job.lease }, why);
    await this.handBack(job.jobId, this.jobTypes.get(job.jobType), why, {
      expect: { leaseNodeId: job.lease.nodeId },
    });
  }
}

/** A lease held by `host-pid` of this very host whose process no longer exists. */
function isDeadLocalProcess(nodeId: string, host: string): boolean {
  if (!nodeId.startsWith(`${host}-`)) return false;
  const pid = Number(nodeId.slice(host.length + 1));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Adds the stored path to file-valued parameters so job code can open them. */
function withPaths(
  decoded: Record<string, ParameterValue | ParameterValue[]>,
  job: Job,
  workDir: string,
): Record<string, ParameterValue | ParameterValue[]> {
  const stored = new Set(job.parameters.flatMap((p) => (p.file ? [p.file.fileName] : [])));
  const attach = (name: string, v: ParameterValue): ParameterValue => {
    if (typeof v !== 'object') return v;
    const fileName = v.kind === 'upload' ? v.name : name;
    return stored.has(fileName) ? { ...v, path: join(workDir, fileName) } : v;
  };
  const out: Record<string, ParameterValue | ParameterValue[]> = {};
  for (const [name, value] of Object.entries(decoded)) {
    out[name] = Array.isArray(value) ? value.map((v) => attach(name, v)) : attach(name, value);
  }
  return out;
}
