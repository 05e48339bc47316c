import type { ErrorSummary, Job, JobResult } from '../core/job.js';
import type { Phase } from '../core/phases.js';
import { type Actor, planTransition, type TransitionRule, timesFor } from '../core/transitions.js';
import type { JobExpectation, JobPatch, JobStore } from './types.js';

export interface TransitionExtras {
  readonly errorSummary?: ErrorSummary;
  readonly errorDetail?: string;
  readonly addResults?: readonly JobResult[];
  /** Extra guard, e.g. the lease of the worker that reports the outcome. */
  readonly expect?: Omit<JobExpectation, 'phase' | 'version'>;
  /**
   * The job as the caller last saw it. The first attempt trusts it instead of
   * reading the job again; the version check still catches any change since.
   */
  readonly known?: Job;
}

export type TransitionResult =
  | { readonly kind: 'applied'; readonly job: Job; readonly rule: TransitionRule; readonly from: Phase }
  | { readonly kind: 'noop'; readonly job: Job; readonly reason: 'same-phase' | 'already-ended' }
  | { readonly kind: 'missing' }
  /** The extra guard failed (the lease is another node's): the change was not made. */
  | { readonly kind: 'guard-failed'; readonly job: Job };

const MAX_ATTEMPTS = 20;

/**
 * One locked read-modify-write of a job's phase through the transition table,
 * done as compare-and-set on the version (as CADC does in one UPDATE) and retried
 * when another writer got there first. Results given with an end phase are kept
 * even when the phase change itself is a no-op (a late COMPLETED after ABORT).
 */
export async function transitionJob(
  store: JobStore,
  jobId: string,
  to: Phase,
  actor: Actor,
  now: number,
  extras: TransitionExtras = {},
): Promise<TransitionResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const job = attempt === 0 && extras.known?.jobId === jobId ? extras.known : await store.get(jobId);
    if (!job) return { kind: 'missing' };
    const plan = planTransition(job.phase, to, actor);
    if (plan.kind === 'noop') {
      if (extras.addResults?.length && job.phase !== 'ARCHIVED') {
        const kept = await store.update(jobId, { version: job.version }, { addResults: extras.addResults });
        if (!kept.ok) continue;
        return { kind: 'noop', job: kept.job, reason: plan.reason };
      }
      return { kind: 'noop', job, reason: plan.reason };
    }
    const times = timesFor(to, now, job);
    const patch: JobPatch = {
      phase: to,
      startTime: times.startTime,
      endTime: times.endTime,
      ...(to === 'QUEUED' || to === 'EXECUTING' ? { errorSummary: null, errorDetail: null } : {}),
      ...(to === 'EXECUTING' ? {} : { lease: null }),
      ...(extras.errorSummary ? { errorSummary: extras.errorSummary } : {}),
      ...(extras.errorDetail !== undefined ? { errorDetail: extras.errorDetail } : {}),
      ...(extras.addResults ? { addResults: extras.addResults } : {}),
      ...(to === 'ARCHIVED' ? { clearResults: true } : {}),
    };
    const outcome = await store.update(jobId, { ...extras.expect, version: job.version }, patch);
    if (outcome.ok) return { kind: 'applied', job: outcome.job, rule: plan.rule, from: job.phase };
    if (!outcome.current) return { kind: 'missing' };
    if (
      extras.expect?.leaseNodeId !== undefined &&
      outcome.current.lease?.nodeId !== extras.expect.leaseNodeId
    ) {
      return { kind: 'guard-failed', job: outcome.current };
    }
  }
  throw new Error(`job ${jobId}: phase change to ${to} lost ${MAX_ATTEMPTS} races in a row`);
}
