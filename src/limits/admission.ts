import { BadRequestError, ForbiddenError, PayloadTooLargeError } from '../core/errors.js';
import type { Job } from '../core/job.js';
import { isHttpUrl } from '../core/parameters.js';
import type { Admission, AdmissionRequest, Caller } from '../service.js';
import type { JobStore } from '../store/types.js';
import { DEFAULT_LIMITS, type LimitSettings } from './settings.js';

/** How long an owner's storage total is reused before it is summed again. */
const USAGE_TTL_MS = 10_000;
/** Owners with fewer jobs are summed afresh each time: cheap, and exact. */
const CACHE_FROM_JOBS = 50;

/**
 * The service's admission checks: request sizes and counts, active jobs per
 * owner and the storage quota. Counts come from the store, so they hold over
 * all nodes; two requests of one owner racing past the active-jobs check at
 * the same moment may overshoot it by one each, which the scheduler's
 * per-owner run limit absorbs.
 */
export class OwnerAdmission implements Admission {
  private readonly store: JobStore;
  private readonly limits: LimitSettings;
  private readonly usage = new Map<string, { bytes: number; at: number }>();
  private readonly now: () => number;

  constructor(store: JobStore, limits: Partial<LimitSettings> = {}, now: () => number = Date.now) {
    this.store = store;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.now = now;
  }

  async create(caller: Caller, request: AdmissionRequest): Promise<void> {
    this.checkRequest(request);
    await this.checkQuota(caller);
    if (request.queued) await this.checkActive(caller);
  }

  async parameters(_caller: Caller, request: AdmissionRequest): Promise<void> {
    this.checkRequest(request);
  }

  async run(caller: Caller, _job: Job): Promise<void> {
    await this.checkActive(caller);
  }

  /** Counts and lengths: 413 for too many values or uploads, 400 for an over-long value. */
  private checkRequest(request: AdmissionRequest): void {
    const { maxParameters, maxValueLength, maxUploads } = this.limits;
    if (request.parameters.length > maxParameters) {
      throw new PayloadTooLargeError(
        `the request has ${request.parameters.length} parameter values; the limit (limits.maxParameters) is ${maxParameters}`,
      );
    }
    for (const p of request.parameters) {
      if (p.value.length > maxValueLength && codePoints(p.value) > maxValueLength) {
        throw new BadRequestError(
          `parameter ${p.name.slice(0, 80)}: value of ${codePoints(p.value)} characters exceeds the limit (limits.maxValueLength) of ${maxValueLength}`,
          p.name.slice(0, 80),
        );
      }
      if (p.name.length > 256) {
        throw new BadRequestError(
          `a parameter name of ${p.name.length} characters is too long (at most 256)`,
        );
      }
    }
    const uploads = request.files.length + remoteUploads(request);
    if (uploads > maxUploads) {
      throw new PayloadTooLargeError(
        `the request has ${uploads} uploads (files and URLs); the limit (limits.maxUploads) is ${maxUploads}`,
      );
    }
  }

  /** 403 while the owner already has the most QUEUED and EXECUTING jobs allowed. */
  private async checkActive(caller: Caller): Promise<void> {
    const limit = this.limits.maxActiveJobsPerOwner;
    if (limit <= 0) return;
    const counts = await this.store.countByPhase({ ownerId: caller.ownerId });
    const active = counts.QUEUED + counts.EXECUTING;
    if (active >= limit) {
      throw new ForbiddenError(
        `${whose(caller)} ${active} queued and executing jobs; the limit (limits.maxActiveJobsPerOwner) is ${limit}: wait for some to finish, or abort them`,
      );
    }
  }

  /** 403 once the owner's results and uploads fill the quota; no new job until some are destroyed. */
  private async checkQuota(caller: Caller): Promise<void> {
    const quota = this.limits.storageQuotaBytes;
    if (quota <= 0) return;
    const bytes = await this.storedBytes(caller.ownerId);
    if (bytes >= quota) {
      throw new ForbiddenError(
        `${whose(caller)} ${bytes} bytes of results and uploads stored; the quota (limits.storageQuotaBytes) is ${quota}: delete jobs to free space`,
      );
    }
  }

  /**
   * Sum of result and upload sizes over the owner's jobs. For an owner with
   * many jobs the sum is reused for a few seconds (it reads every job), which
   * lets a burst of creations overshoot the quota by what those jobs store.
   */
  async storedBytes(ownerId: string | null): Promise<number> {
    const key = ownerId ?? '';
    const now = this.now();
    const cached = this.usage.get(key);
    if (cached && now - cached.at < USAGE_TTL_MS) return cached.bytes;
    let bytes = 0;
    let jobs = 0;
    for await (const summary of this.store.list({ ownerId })) {
      const job = await this.store.get(summary.jobId);
      if (!job) continue;
      jobs++;
      for (const r of job.results) if (r.fileName) bytes += r.size ?? 0;
      for (const p of job.parameters) bytes += p.file?.size ?? 0;
    }
    if (jobs >= CACHE_FROM_JOBS) {
      if (this.usage.size > 10_000) this.usage.clear();
      this.usage.set(key, { bytes, at: now });
    }
    return bytes;
  }
}

function whose(caller: Caller): string {
  return caller.ownerId === null ? 'anonymous users have' : `owner ${caller.ownerId} has`;
}

/** http(s) references among the values of file and upload parameters: each is a fetch. */
function remoteUploads(request: AdmissionRequest): number {
  let n = 0;
  for (const p of request.parameters) {
    const decl = request.jobType.schema.find(p.name);
    if (decl?.type !== 'file' && decl?.type !== 'upload') continue;
    const uri = decl.type === 'upload' ? p.value.slice(p.value.indexOf(',') + 1).trim() : p.value.trim();
    if (isHttpUrl(uri)) n++;
  }
  return n;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
