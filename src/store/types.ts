import type { ErrorSummary, Job, JobParameter, JobResult, JobSummary, Lease } from '../core/job.js';
import type { Phase } from '../core/phases.js';

/** What a new job is stored with; the store adds version 1 and empty results. */
export interface NewJob {
  readonly jobId: string;
  readonly jobType: string;
  readonly runId: string | null;
  readonly ownerId: string | null;
  readonly phase: Phase;
  readonly quote: number | null;
  readonly creationTime: number;
  readonly executionDuration: number;
  readonly destruction: number | null;
  readonly parameters: readonly JobParameter[];
  readonly jobInfo: Readonly<Record<string, string>> | null;
}

/**
 * A change to one job. Fields left undefined stay as they are. Results in
 * `addResults` are added, replacing any with the same id; `clearResults` drops them
 * all first (used when archiving).
 */
export interface JobPatch {
  readonly phase?: Phase;
  readonly runId?: string | null;
  readonly quote?: number | null;
  readonly startTime?: number | null;
  readonly endTime?: number | null;
  readonly executionDuration?: number;
  readonly destruction?: number | null;
  readonly parameters?: readonly JobParameter[];
  readonly errorSummary?: ErrorSummary | null;
  /** The long error text served at /error; kept out of Job so that reads stay small. */
  readonly errorDetail?: string | null;
  readonly jobInfo?: Readonly<Record<string, string>> | null;
  readonly lease?: Lease | null;
  readonly clearResults?: boolean;
  readonly addResults?: readonly JobResult[];
}

/** Compare-and-set guard: the update applies only if every given field still matches. */
export interface JobExpectation {
  readonly phase?: Phase;
  readonly version?: number;
  /** The lease must be held by this node (a worker finishing a job it may have lost). */
  readonly leaseNodeId?: string;
}

export type UpdateOutcome =
  | { readonly ok: true; readonly job: Job }
  /** The guard failed; `current` is the job as it now is, or null if it no longer exists. */
  | { readonly ok: false; readonly current: Job | null };

export interface JobListFilter {
  /** undefined: any owner; null: only jobs without an owner; a string: only that owner's. */
  readonly ownerId?: string | null;
  readonly jobType?: string;
  /** Union of phases (JL-GET-5). When absent, every phase but ARCHIVED (JL-GET-3). */
  readonly phases?: readonly Phase[];
  /** Only jobs with creationTime strictly later than this (JL-GET-7). */
  readonly after?: number;
  /** Only the n most recent after the other filters (JL-GET-8, AMB-8). */
  readonly last?: number;
  /** Keyset paging: only jobs strictly older than this (creationTime, jobId) pair in list order. */
  readonly before?: { readonly creationTime: number; readonly jobId: string };
}

export type PhaseCounts = Record<Phase, number>;

export interface ClaimRequest {
  readonly nodeId: string;
  readonly now: number;
  readonly leaseMs: number;
  /** Run limit over all nodes: no claim while this many jobs are EXECUTING. */
  readonly maxExecuting: number;
  /** Per-owner run limit (anonymous jobs count as one owner). */
  readonly maxExecutingPerOwner: number;
  /** Job types this runner can execute, each with its own concurrency limit. */
  readonly jobTypes: readonly { readonly name: string; readonly maxExecuting: number }[];
}

/** A change the store committed, for WAIT and the scheduler. */
export interface JobChange {
  readonly jobId: string;
  readonly phase: Phase | null;
  readonly version: number;
  /** 'deleted' when the job is gone. */
  readonly kind: 'created' | 'updated' | 'deleted';
}

export type JobChangeListener = (change: JobChange) => void;

/**
 * The one place jobs are kept (DESIGN: one source of truth). Every method is one
 * transaction. Implementations: SQLite (embedded default) and PostgreSQL (several
 * nodes); both pass test/store/contract.ts.
 */
export interface JobStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or migrates the schema. Safe to call on every start and from several processes. */
  init(): Promise<void>;
  close(): Promise<void>;

  /** Fails with an Error if the id exists. */
  create(job: NewJob): Promise<Job>;
  get(jobId: string): Promise<Job | null>;
  getErrorDetail(jobId: string): Promise<string | null>;
  update(jobId: string, expect: JobExpectation, patch: JobPatch): Promise<UpdateOutcome>;
  delete(jobId: string): Promise<boolean>;

  /** Newest first (creationTime desc, then jobId desc), streamed in pages. */
  list(filter: JobListFilter): AsyncIterable<JobSummary>;
  countByPhase(filter?: { ownerId?: string | null; jobType?: string }): Promise<PhaseCounts>;

  /**
   * Atomically moves the best QUEUED job to EXECUTING with a lease for this node,
   * respecting the limits, or returns null. Order: FIFO by creationTime, but round
   * robin between owners: among owners under their limit, the one with the fewest
   * EXECUTING jobs goes first, so one user cannot starve the rest.
   */
  claimNext(request: ClaimRequest): Promise<Job | null>;
  /** Extends the leases this node holds; returns the ids whose lease was no longer its own. */
  renewLeases(nodeId: string, jobIds: readonly string[], expiresAt: number): Promise<string[]>;
  /** EXECUTING jobs whose lease expired before `now` (their runner is presumed dead). */
  expiredLeases(now: number, limit: number): Promise<Job[]>;
  /** Jobs (any phase but ARCHIVED) whose destruction time is at or before `now`, oldest first. */
  dueForDestruction(now: number, limit: number): Promise<{ jobId: string; destruction: number }[]>;
  /** The earliest destruction time of any job not yet ARCHIVED, for the destruction timer. */
  nextDestruction(): Promise<number | null>;
  /** All job ids (for the orphan-directory cleaner), streamed. */
  allJobIds(): AsyncIterable<string>;

  /** Calls `listener` after every change this store commits (and, for PostgreSQL, other nodes commit). */
  watch(listener: JobChangeListener): () => void;
  /**
   * Calls `listener` when changes may have been missed: another process committed
   * to the same SQLite file, or the PostgreSQL change feed reconnected. Whoever
   * waits for a change then re-reads what it waits for.
   */
  onResync(listener: () => void): () => void;
}
