import { randomUUID } from 'node:crypto';
import {
  BadRequestError,
  ForbiddenError,
  NotAllowedInPhaseError,
  NotFoundError,
  UwsError,
} from './core/errors.js';
import { isWellFormedJobId, newJobId } from './core/ids.js';
import type { Job, JobParameter, JobResult, JobSummary } from './core/job.js';
import { decodeParameter, isHttpUrl, type ParameterDeclaration } from './core/parameters.js';
import { ACTIVE_PHASES, isPhase, type Phase } from './core/phases.js';
import { effectiveDestruction, effectiveExecutionDuration, parseExecutionDuration } from './core/policy.js';
import { parseInstant } from './core/time.js';
import type { JobType, JobTypeRegistry } from './exec/job-type.js';
import { transitionJob } from './store/transition.js';
import type { JobChange, JobListFilter, JobStore } from './store/types.js';

/** Who makes a request: the owner identity from auth/, null when anonymous. */
export interface Caller {
  readonly ownerId: string | null;
  /** Sees and changes every job. */
  readonly admin?: boolean;
}

export const ANONYMOUS: Caller = { ownerId: null };

/** A parameter as it arrived: any-case name, raw text value. */
export interface RawParameter {
  readonly name: string;
  readonly value: string;
}

/** A file part already spooled to disk by the HTTP layer (multipart) or fetched from a URL. */
export interface StagedFile {
  readonly partName: string;
  readonly path: string;
  readonly size: number;
  readonly mediaType?: string;
}

/** What the facade needs of the per-job working directories (results/). */
export interface JobFiles {
  /** Moves a staged file into the job's directory under `fileName` (a plain name). */
  adopt(jobId: string, stagedPath: string, fileName: string): Promise<void>;
  /** Removes a staged file that was not used. */
  discard(stagedPath: string): Promise<void>;
  /** Removes the job's directory; fine if it does not exist. */
  remove(jobId: string): Promise<void>;
  /** Absolute path of a plain file name in the job's directory; refuses path tricks. */
  filePath(jobId: string, fileName: string): string;
}

/** Fetches a by-reference upload (http/https) into a staged file, within size and time limits. */
export type RemoteFetcher = (url: string, parameter: string) => Promise<StagedFile>;

/** What a request asks of the service, as the admission checks see it. */
export interface AdmissionRequest {
  readonly jobType: JobType;
  readonly parameters: readonly RawParameter[];
  readonly files: readonly StagedFile[];
  /** The job would go to QUEUED (creation with PHASE=RUN). */
  readonly queued: boolean;
}

/**
 * Limits checked before work is accepted (src/limits/): sizes and counts,
 * jobs per owner, storage quota. Each check throws a UwsError that names its limit.
 */
export interface Admission {
  create(caller: Caller, request: AdmissionRequest): Promise<void>;
  parameters(caller: Caller, request: AdmissionRequest): Promise<void>;
  /** Before a PENDING or HELD job goes to QUEUED. */
  run(caller: Caller, job: Job): Promise<void>;
}

export interface ServiceOptions {
  readonly store: JobStore;
  readonly jobTypes: JobTypeRegistry;
  readonly files: JobFiles;
  readonly fetchRemote?: RemoteFetcher;
  /** Limits on what callers may ask (src/limits/); none by default. */
  readonly admission?: Admission;
  /** What happens to a job at its destruction time: forget it, or keep its metadata as ARCHIVED. */
  readonly destructionPolicy?: 'delete' | 'archive';
  readonly now?: () => number;
  /** Told of every destruction time set, so the reaper's timer wakes in time. */
  readonly onDestructionSet?: (destruction: number | null) => void;
}

/** The UWS control parameters (OBJ-33) accepted with a creating POST (AMB-20). */
const CREATION_CONTROLS = new Set(['phase', 'runid', 'destruction', 'executionduration']);
const MAX_RUNID_LENGTH = 64;

/**
 * The one facade (like DaCHS's UWS class) through which http/, cli/ and tests
 * create, read, change, run, abort and destroy jobs. It owns the rules (phases,
 * ownership, time policy, parameters); the store owns the data.
 */
export class UwsService {
  readonly store: JobStore;
  readonly jobTypes: JobTypeRegistry;
  readonly files: JobFiles;
  private readonly fetchRemote: RemoteFetcher | undefined;
  private readonly admission: Admission | undefined;
  readonly destructionPolicy: 'delete' | 'archive';
  readonly now: () => number;
  onDestructionSet: (destruction: number | null) => void;
  private readonly waiters = new Map<string, Set<(change: JobChange) => void>>();
  private readonly unwatch: () => void;
  private readonly unresync: () => void;

  constructor(options: ServiceOptions) {
    this.store = options.store;
    this.jobTypes = options.jobTypes;
    this.files = options.files;
    this.fetchRemote = options.fetchRemote;
    this.admission = options.admission;
    this.destructionPolicy = options.destructionPolicy ?? 'delete';
    this.now = options.now ?? Date.now;
    this.onDestructionSet = options.onDestructionSet ?? (() => {});
    this.unwatch = this.store.watch((change) => this.wakeWaiters(change));
    this.unresync = this.store.onResync(() => void this.resyncWaiters());
  }

  close(): void {
    this.unwatch();
    this.unresync();
  }

  private wakeWaiters(change: JobChange): void {
    const set = this.waiters.get(change.jobId);
    if (set) for (const wake of [...set]) wake(change);
  }

  /** Changes may have been missed (another process, a reconnect): re-read every job someone waits on. */
  private async resyncWaiters(): Promise<void> {
    for (const jobId of [...this.waiters.keys()]) {
      const job = await this.store.get(jobId).catch(() => undefined);
      if (job === undefined) continue;
      this.wakeWaiters(
        job
          ? { jobId, phase: job.phase, version: job.version, kind: 'updated' }
          : { jobId, phase: null, version: 0, kind: 'deleted' },
      );
    }
  }

  jobType(name: string): JobType {
    const type = this.jobTypes.get(name);
    if (!type) throw new NotFoundError(`there is no job type ${name}`);
    return type;
  }

  /**
   * Creates a job (JL-POST-1..8). Control parameters PHASE=RUN, RUNID, DESTRUCTION
   * and EXECUTIONDURATION are honoured here; with PHASE=RUN the job is stored
   * QUEUED in the same commit, so no client ever sees it PENDING (PH-4).
   */
  async createJob(request: {
    jobType: string;
    caller: Caller;
    parameters: readonly RawParameter[];
    files?: readonly StagedFile[];
  }): Promise<Job> {
    const type = this.jobType(request.jobType);
    const staged = [...(request.files ?? [])];
    const jobId = newJobId();
    let adopted = false;
    try {
      const controls = splitControls(request.parameters);
      const now = this.now();
      let phase: Phase = 'PENDING';
      if (controls.phase !== undefined) {
        if (controls.phase.toUpperCase() !== 'RUN') {
          throw new BadRequestError(
            `PHASE=${controls.phase} is not allowed at creation; only PHASE=RUN is`,
            'PHASE',
          );
        }
        phase = 'QUEUED';
      }
      await this.admission?.create(request.caller, {
        jobType: type,
        parameters: request.parameters,
        files: staged,
        queued: phase === 'QUEUED',
      });
      const runId = controls.runId ?? null;
      if (runId !== null && runId.length > MAX_RUNID_LENGTH) {
        throw new BadRequestError(`RUNID is longer than ${MAX_RUNID_LENGTH} characters`, 'RUNID');
      }
      const executionDuration = effectiveExecutionDuration(
        type.timePolicy,
        controls.executionDuration === undefined
          ? undefined
          : parseExecutionDuration(controls.executionDuration),
      );
      const destruction = effectiveDestruction(
        type.timePolicy,
        now,
        controls.destruction === undefined ? undefined : parseInstant(controls.destruction, 'DESTRUCTION'),
      );
      let parameters = type.schema.normalise(withFileParts(type, controls.protocol, staged), {
        complete: false,
      });
      if (phase === 'QUEUED') type.schema.normalise(parameters, { complete: true });
      adopted = true;
      parameters = await this.attachFiles(jobId, type, parameters, staged);
      const draft = {
        jobId,
        jobType: type.name,
        runId,
        ownerId: request.caller.ownerId,
        phase,
        quote: null,
        creationTime: now,
        executionDuration,
        destruction,
        parameters,
        jobInfo: null,
      };
      const job = await this.store.create({ ...draft, quote: quoteFor(type, draft, now) });
      this.onDestructionSet(job.destruction);
      return job;
    } catch (err) {
      await Promise.all(staged.map((f) => this.files.discard(f.path).catch(() => {})));
      if (adopted) await this.files.remove(jobId).catch(() => {});
      throw err;
    }
  }

  /** A job the caller may see (JOB-GET-4): 404 if unknown, 403 if another owner's. */
  async getJob(jobId: string, caller: Caller, jobType?: string): Promise<Job> {
    const job = isWellFormedJobId(jobId) ? await this.store.get(jobId) : null;
    if (!job || (jobType !== undefined && job.jobType !== jobType)) {
      throw new NotFoundError(`there is no job ${jobId.slice(0, 80)}`);
    }
    assertMayAccess(job, caller);
    return job;
  }

  /** The job list the caller may see (JL-GET-*, AMB-21): own jobs, or anonymous ones, or all for admins. */
  listJobs(
    caller: Caller,
    filter: Omit<JobListFilter, 'ownerId'> & { readonly allOwners?: boolean },
  ): AsyncIterable<JobSummary> {
    const { allOwners, ...rest } = filter;
    if (allOwners && !caller.admin)
      throw new ForbiddenError('only administrators may list every owner’s jobs');
    // Admins see every owner's jobs (HTTP-12); everyone else their own, anonymous callers the anonymous ones.
    return this.store.list(allOwners || caller.admin ? rest : { ...rest, ownerId: caller.ownerId });
  }

  /** Adds or replaces parameters while PENDING (PAR-5, AMB-10, DALI-4). */
  async setParameters(
    jobId: string,
    caller: Caller,
    given: readonly RawParameter[],
    files: readonly StagedFile[] = [],
    jobType?: string,
  ): Promise<Job> {
    const staged = [...files];
    try {
      const job = await this.getJob(jobId, caller, jobType);
      const type = this.jobType(job.jobType);
      requirePending(job, 'parameters');
      await this.admission?.parameters(caller, {
        jobType: type,
        parameters: given,
        files: staged,
        queued: false,
      });
      const controls = splitControls(given);
      if (
        controls.phase !== undefined ||
        controls.destruction !== undefined ||
        controls.executionDuration !== undefined
      ) {
        throw new BadRequestError(
          'PHASE, DESTRUCTION and EXECUTIONDURATION have their own resources; post them there',
          'PHASE',
        );
      }
      let update = type.schema.normalise(withFileParts(type, controls.protocol, staged), { complete: false });
      update = await this.attachFiles(job.jobId, type, update, staged);
      const runId = controls.runId;
      if (runId !== undefined && runId.length > MAX_RUNID_LENGTH) {
        throw new BadRequestError(`RUNID is longer than ${MAX_RUNID_LENGTH} characters`, 'RUNID');
      }
      const outcome = await this.store.update(
        job.jobId,
        { phase: 'PENDING', version: job.version },
        { parameters: type.schema.merge(job.parameters, update), ...(runId !== undefined ? { runId } : {}) },
      );
      if (!outcome.ok) return this.retryAfterRace(jobId, caller, 'parameters', outcome.current);
      return outcome.job;
    } catch (err) {
      await Promise.all(staged.map((f) => this.files.discard(f.path).catch(() => {})));
      throw err;
    }
  }

  /** DS-2..4: any time before the job ends is fine; later than the lifetime allows is clamped. */
  async setDestruction(jobId: string, caller: Caller, text: string, jobType?: string): Promise<Job> {
    const requested = parseInstant(text, 'DESTRUCTION');
    for (;;) {
      const job = await this.getJob(jobId, caller, jobType);
      if (job.phase === 'ARCHIVED')
        throw new NotAllowedInPhaseError('an ARCHIVED job cannot be changed', job.phase);
      const type = this.jobType(job.jobType);
      const destruction = effectiveDestruction(type.timePolicy, job.creationTime, requested);
      const outcome = await this.store.update(job.jobId, { version: job.version }, { destruction });
      if (outcome.ok) {
        this.onDestructionSet(destruction);
        return outcome.job;
      }
      if (!outcome.current) throw new NotFoundError(`there is no job ${jobId}`);
    }
  }

  /** ED-2..5, AMB-14: only while PENDING; clamped to the job type's maximum. */
  async setExecutionDuration(jobId: string, caller: Caller, text: string, jobType?: string): Promise<Job> {
    const requested = parseExecutionDuration(text);
    const job = await this.getJob(jobId, caller, jobType);
    requirePending(job, 'executionDuration');
    const type = this.jobType(job.jobType);
    const executionDuration = effectiveExecutionDuration(type.timePolicy, requested);
    const quote = quoteFor(type, { ...job, executionDuration }, this.now());
    const outcome = await this.store.update(
      job.jobId,
      { phase: 'PENDING', version: job.version },
      { executionDuration, quote },
    );
    if (!outcome.ok) return this.retryAfterRace(jobId, caller, 'executionDuration', outcome.current);
    return outcome.job;
  }

  /**
   * PHASE=RUN (PH-2..4, AMB-2): PENDING (or HELD) -> QUEUED before returning; a job
   * already QUEUED or EXECUTING is left as it is; an ended job is refused.
   */
  async run(jobId: string, caller: Caller, jobType?: string): Promise<Job> {
    const job = await this.getJob(jobId, caller, jobType);
    if (job.phase === 'QUEUED' || job.phase === 'EXECUTING') return job;
    if (job.phase !== 'PENDING' && job.phase !== 'HELD') {
      throw new NotAllowedInPhaseError(`a job in phase ${job.phase} cannot be run`, job.phase);
    }
    this.jobType(job.jobType).schema.normalise(job.parameters, { complete: true });
    await this.admission?.run(caller, job);
    const result = await transitionJob(this.store, job.jobId, 'QUEUED', 'client', this.now());
    if (result.kind === 'missing') throw new NotFoundError(`there is no job ${jobId}`);
    if (result.kind === 'noop' && result.job.phase !== 'QUEUED' && result.job.phase !== 'EXECUTING') {
      throw new NotAllowedInPhaseError(`a job in phase ${result.job.phase} cannot be run`, result.job.phase);
    }
    return result.job;
  }

  /** PHASE=ABORT (PH-5, AMB-3): active jobs end ABORTED; an ended job stays as it is. */
  async abort(jobId: string, caller: Caller, jobType?: string): Promise<Job> {
    const job = await this.getJob(jobId, caller, jobType);
    if (
      job.phase === 'ARCHIVED' ||
      job.phase === 'COMPLETED' ||
      job.phase === 'ERROR' ||
      job.phase === 'ABORTED'
    ) {
      return job;
    }
    const result = await transitionJob(this.store, job.jobId, 'ABORTED', 'client', this.now(), {
      errorSummary: { type: 'transient', message: 'aborted by the client', hasDetail: false },
    });
    if (result.kind === 'missing') throw new NotFoundError(`there is no job ${jobId}`);
    if (result.kind === 'guard-failed') return result.job;
    return result.job;
  }

  /**
   * DELETE / ACTION=DELETE (DEL-1, DEL-5, AMB-13): the job is aborted if active
   * (its runner sees the change and stops the work), then forgotten with its files.
   */
  async destroy(jobId: string, caller: Caller, jobType?: string): Promise<void> {
    const job = await this.getJob(jobId, caller, jobType);
    await this.forget(job);
  }

  /** Destroys a job without an access check: for the reaper and the admin CLI. */
  async forget(job: Job): Promise<void> {
    if (ACTIVE_PHASES.has(job.phase) || job.phase === 'SUSPENDED' || job.phase === 'HELD') {
      await transitionJob(this.store, job.jobId, 'ABORTED', 'server', this.now(), {
        errorSummary: { type: 'transient', message: 'the job was destroyed', hasDetail: false },
      }).catch(() => undefined);
    }
    await this.store.delete(job.jobId);
    // The job is gone once its row is; a directory that resists removal is left to the orphan cleaner.
    await this.files.remove(job.jobId).catch(() => undefined);
  }

  /** At destruction time (OBJ-22): delete, or with the archive policy keep the metadata as ARCHIVED (OBJ-16). */
  async expire(jobId: string): Promise<'deleted' | 'archived' | 'gone'> {
    const job = await this.store.get(jobId);
    if (!job) return 'gone';
    if (this.destructionPolicy === 'archive' && job.phase !== 'ARCHIVED') {
      if (!(job.phase === 'COMPLETED' || job.phase === 'ERROR' || job.phase === 'ABORTED')) {
        await transitionJob(this.store, jobId, 'ABORTED', 'server', this.now(), {
          errorSummary: { type: 'fatal', message: 'the job reached its destruction time', hasDetail: false },
        });
      }
      await transitionJob(this.store, jobId, 'ARCHIVED', 'server', this.now());
      await this.files.remove(jobId);
      return 'archived';
    }
    await this.forget(job);
    return 'deleted';
  }

  /**
   * Blocking GET (WAIT-1..12): returns at once outside the active phases or when
   * the PHASE guard does not match; otherwise when the phase changes, the job is
   * destroyed, the timeout passes or `signal` fires (client gone). Event driven:
   * woken by the store's change feed, no polling.
   */
  async waitForChange(
    jobId: string,
    caller: Caller,
    options: { timeoutMs: number; phase?: Phase; signal?: AbortSignal; jobType?: string },
  ): Promise<Job> {
    const first = await this.getJob(jobId, caller, options.jobType);
    if (!ACTIVE_PHASES.has(first.phase)) return first;
    if (options.phase !== undefined && first.phase !== options.phase) return first;
    if (options.timeoutMs <= 0 || options.signal?.aborted) return first;
    let set = this.waiters.get(first.jobId);
    if (!set) {
      set = new Set();
      this.waiters.set(first.jobId, set);
    }
    const waiters = set;
    let wake!: (change: JobChange | null) => void;
    const woken = new Promise<JobChange | null>((resolve) => {
      wake = resolve;
    });
    const onChange = (change: JobChange) => {
      if (change.kind === 'deleted' || (change.phase !== null && change.phase !== first.phase)) wake(change);
    };
    const onAbort = () => wake(null);
    const timer = setTimeout(() => wake(null), options.timeoutMs);
    waiters.add(onChange);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // The job may have changed between the first read and the subscription.
      const current = await this.store.get(first.jobId);
      if (!current || current.phase !== first.phase) return current ?? first;
      await woken;
      return (await this.store.get(first.jobId)) ?? first;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      waiters.delete(onChange);
      if (waiters.size === 0) this.waiters.delete(first.jobId);
    }
  }

  /** How many WAITs are open now (for metrics and leak tests). */
  openWaits(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  /** The detailed error text (ERR-3, ERR-5): 404 unless the job failed. */
  async errorDetail(jobId: string, caller: Caller, jobType?: string): Promise<string> {
    const job = await this.getJob(jobId, caller, jobType);
    if (!job.errorSummary || (job.phase !== 'ERROR' && job.phase !== 'ABORTED')) {
      throw new NotFoundError(`job ${job.jobId} has no error`);
    }
    return (await this.store.getErrorDetail(job.jobId)) ?? job.errorSummary.message;
  }

  /** A result of a job (RES-10): where its bytes are. 404 if there is no such result. */
  async result(
    jobId: string,
    caller: Caller,
    resultId: string,
    jobType?: string,
  ): Promise<{ job: Job; result: JobResult; path: string | null }> {
    const job = await this.getJob(jobId, caller, jobType);
    const result = job.results.find((r) => r.id === resultId);
    if (!result) throw new NotFoundError(`job ${job.jobId} has no result ${resultId.slice(0, 80)}`);
    return { job, result, path: result.fileName ? this.files.filePath(job.jobId, result.fileName) : null };
  }

  /** The stored content of a file-valued parameter (PAR-7, AMB-19), by parameter or upload name. */
  async parameterFile(
    jobId: string,
    caller: Caller,
    name: string,
    jobType?: string,
  ): Promise<{ parameter: JobParameter; path: string }> {
    const job = await this.getJob(jobId, caller, jobType);
    const wanted = name.toLowerCase();
    const parameter =
      job.parameters.find((p) => p.file && p.file.fileName.toLowerCase() === wanted) ??
      job.parameters.find((p) => p.file && p.name.toLowerCase() === wanted);
    if (!parameter?.file)
      throw new NotFoundError(`job ${job.jobId} has no uploaded parameter ${name.slice(0, 80)}`);
    return { parameter, path: this.files.filePath(job.jobId, parameter.file.fileName) };
  }

  private async retryAfterRace(
    jobId: string,
    caller: Caller,
    what: string,
    current: Job | null,
  ): Promise<Job> {
    if (!current) throw new NotFoundError(`there is no job ${jobId}`);
    requirePending(current, what);
    // Still PENDING but changed under us: the caller's view is stale, ask again.
    return this.getJob(jobId, caller);
  }

  /**
   * Resolves `param:part` references (inline uploads, PAR-7, DALI-8) and http(s)
   * references (fetched within limits) to files in the job's directory.
   */
  private async attachFiles(
    jobId: string,
    type: JobType,
    parameters: JobParameter[],
    staged: StagedFile[],
  ): Promise<JobParameter[]> {
    const byPart = new Map(staged.map((f) => [f.partName, f]));
    const used = new Set<string>();
    const out: JobParameter[] = [];
    for (const p of parameters) {
      const decl = type.schema.find(p.name) as ParameterDeclaration;
      if (decl.type !== 'file' && decl.type !== 'upload') {
        out.push(p);
        continue;
      }
      const decoded = decodeParameter(decl, p.value);
      const uri = typeof decoded === 'object' ? decoded.uri : '';
      const fileName =
        decoded && typeof decoded === 'object' && decoded.kind === 'upload' ? decoded.name : decl.name;
      if (out.some((q) => q.file?.fileName === fileName)) {
        throw new BadRequestError(`upload name ${fileName} is used twice`, p.name);
      }
      let file: StagedFile | undefined;
      if (uri.startsWith('param:')) {
        const part = uri.slice('param:'.length);
        file = byPart.get(part);
        if (!file)
          throw new BadRequestError(
            `parameter ${p.name} refers to file part ${part}, which was not sent`,
            p.name,
          );
        used.add(part);
      } else if (isHttpUrl(uri)) {
        if (!this.fetchRemote)
          throw new BadRequestError(`parameter ${p.name}: uploads by URL are not enabled`, p.name);
        file = await this.fetchRemote(uri, p.name);
      } else {
        throw new BadRequestError(`parameter ${p.name} has no file`, p.name);
      }
      await this.files.adopt(jobId, file.path, fileName);
      out.push({
        name: p.name,
        value: p.value,
        file: { fileName, size: file.size, ...(file.mediaType ? { mediaType: file.mediaType } : {}) },
      });
    }
    const unused = staged.filter((f) => !used.has(f.partName));
    if (unused.length > 0) {
      const names = unused.map((f) => f.partName).join(', ');
      throw new BadRequestError(`file part ${names} is not referenced by any parameter`, unused[0]!.partName);
    }
    return out;
  }
}

function splitControls(given: readonly RawParameter[]): {
  phase?: string;
  runId?: string;
  destruction?: string;
  executionDuration?: string;
  protocol: RawParameter[];
} {
  const out: ReturnType<typeof splitControls> = { protocol: [] };
  const single = (name: string, current: string | undefined, value: string) => {
    if (current !== undefined && current !== value) {
      throw new BadRequestError(`${name} takes a single value but was given several`, name);
    }
    return value;
  };
  for (const p of given) {
    const key = p.name.toLowerCase();
    if (!CREATION_CONTROLS.has(key)) {
      out.protocol.push(p);
      continue;
    }
    if (key === 'phase') out.phase = single('PHASE', out.phase, p.value);
    else if (key === 'runid') out.runId = single('RUNID', out.runId, p.value);
    else if (key === 'destruction') out.destruction = single('DESTRUCTION', out.destruction, p.value);
    else out.executionDuration = single('EXECUTIONDURATION', out.executionDuration, p.value);
  }
  return out;
}

/**
 * A file part named after a declared `file` parameter, sent without a matching
 * `name=param:part` field, stands for that parameter (what browsers' forms send).
 */
function withFileParts(type: JobType, given: RawParameter[], staged: readonly StagedFile[]): RawParameter[] {
  const out = [...given];
  for (const f of staged) {
    const decl = type.schema.find(f.partName);
    if (decl?.type !== 'file') continue;
    if (out.some((p) => p.name.toLowerCase() === decl.name.toLowerCase())) continue;
    out.push({ name: decl.name, value: `param:${f.partName}` });
  }
  return out;
}

function requirePending(job: Job, what: string): void {
  if (job.phase !== 'PENDING') {
    throw new NotAllowedInPhaseError(
      `${what} can only be changed while the job is PENDING; it is ${job.phase}`,
      job.phase,
    );
  }
}

function assertMayAccess(job: Job, caller: Caller): void {
  if (caller.admin || job.ownerId === null || job.ownerId === caller.ownerId) return;
  throw new ForbiddenError(`job ${job.jobId} belongs to another owner`);
}

function quoteFor(
  type: JobType,
  job: Pick<Job, 'executionDuration'> & Partial<Job>,
  now: number,
): number | null {
  if (!type.estimateSeconds) return null;
  const seconds = type.estimateSeconds(job as Job);
  return seconds === null ? null : now + Math.max(0, seconds) * 1000;
}

/** The id that goes into a log line about an unexpected fault, so an operator can find it. */
export function faultId(): string {
  return randomUUID();
}

export function isUwsError(err: unknown): err is UwsError {
  return err instanceof UwsError;
}

export { isPhase };
