import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Job, JobResult, JobSummary } from '../../core/job.js';
import { PHASES, type Phase } from '../../core/phases.js';
import { patchColumns } from '../rows.js';
import type {
  ClaimRequest,
  JobChange,
  JobChangeListener,
  JobExpectation,
  JobListFilter,
  JobPatch,
  JobStore,
  NewJob,
  PhaseCounts,
  UpdateOutcome,
} from '../types.js';
import { MIGRATIONS, migrate, schemaVersion } from './migrations.js';
import {
  JOB_COLUMNS,
  type JobRow,
  jobFromRows,
  newJobParams,
  type ResultRow,
  SUMMARY_COLUMNS,
  type SummaryRow,
  summaryFromRow,
} from './rows.js';

export interface SqliteStoreOptions {
  /** How long a write waits for another process's lock before failing (ms). */
  readonly busyTimeoutMs?: number;
  /** Rows per page when streaming the job list, so a huge list never sits in memory. */
  readonly pageSize?: number;
  /** How often to look for commits by other processes sharing the file, while anyone listens (ms). */
  readonly foreignCommitPollMs?: number;
}

type Params = Record<string, string | number | null>;
type Statement = Database.Statement;

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_FOREIGN_COMMIT_POLL_MS = 250;
const ID_PAGE_SIZE = 1000;
/** How many of the oldest queued jobs a claim reads before it looks owner by owner. */
const QUEUE_FRONT = 64;

/**
 * The embedded JobStore: one SQLite file in WAL mode, shareable by several
 * processes on one host. better-sqlite3 is synchronous, so each method runs its
 * whole transaction without yielding; writes use BEGIN IMMEDIATE so that a
 * read-then-write never fails on a lock upgrade and waits (busy_timeout) instead.
 */
export class SqliteJobStore implements JobStore {
  readonly kind = 'sqlite' as const;
  readonly file: string;
  readonly #busyTimeoutMs: number;
  readonly #pageSize: number;
  #db: Database.Database | null = null;
  #statements: ReturnType<typeof prepareFixed> | null = null;
  /** Statements whose text depends on which filters or patch fields are given, prepared once per shape. */
  readonly #shaped = new Map<string, Statement>();
  readonly #listeners = new Set<JobChangeListener>();
  readonly #resyncListeners = new Set<() => void>();
  /** Watches PRAGMA data_version, which moves only when another connection (process) commits. */
  #foreignCommitTimer: NodeJS.Timeout | null = null;
  #dataVersion = 0;
  readonly #foreignCommitPollMs: number;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.file = file;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.#pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.#foreignCommitPollMs = options.foreignCommitPollMs ?? DEFAULT_FOREIGN_COMMIT_POLL_MS;
  }

  async init(): Promise<void> {
    if (this.#db) return;
    const inMemory = this.file === ':memory:' || this.file === '';
    if (!inMemory) mkdirSync(dirname(this.file), { recursive: true });
    const db = new Database(this.file);
    try {
      // busy_timeout first: every later statement may meet another process's lock.
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(this.#busyTimeoutMs))}`);
      if (!inMemory) setWal(db);
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      const known = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
      const found = schemaVersion(db);
      if (found > known) {
        throw new Error(
          `${this.file} has schema version ${found}, newer than this software knows (${known}); upgrade ivoa-uws`,
        );
      }
      migrate(db);
      this.#statements = prepareFixed(db);
      this.#db = db;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#foreignCommitTimer) clearInterval(this.#foreignCommitTimer);
    this.#foreignCommitTimer = null;
    const db = this.#db;
    this.#db = null;
    this.#statements = null;
    this.#shaped.clear();
    db?.close();
  }

  async create(job: NewJob): Promise<Job> {
    const { db, s } = this.#open();
    const created = db
      .transaction(() => {
        if (s.exists.get(job.jobId)) throw new Error(`job ${job.jobId} already exists`);
        s.insert.run(newJobParams(job));
        return this.#read(job.jobId)!;
      })
      .immediate();
    this.#emit({ jobId: created.jobId, phase: created.phase, version: created.version, kind: 'created' });
    return created;
  }

  async get(jobId: string): Promise<Job | null> {
    const { db } = this.#open();
    return db.transaction(() => this.#read(jobId)).deferred();
  }

  async getErrorDetail(jobId: string): Promise<string | null> {
    const { s } = this.#open();
    const row = s.errorDetail.get(jobId) as { error_detail: string | null } | undefined;
    return row?.error_detail ?? null;
  }

  async update(jobId: string, expect: JobExpectation, patch: JobPatch): Promise<UpdateOutcome> {
    const { db, s } = this.#open();
    const { sql, params } = updateStatement(jobId, expect, patch);
    const statement = this.#shape(sql);
    const outcome = db
      .transaction((): UpdateOutcome => {
        const changed = statement.get(params) as { version: number } | undefined;
        if (!changed) return { ok: false, current: this.#read(jobId) };
        if (patch.clearResults) s.clearResults.run(jobId);
        for (const result of patch.addResults ?? []) s.upsertResult.run(resultParams(jobId, result));
        return { ok: true, job: this.#read(jobId)! };
      })
      .immediate();
    if (outcome.ok) {
      this.#emit({ jobId, phase: outcome.job.phase, version: outcome.job.version, kind: 'updated' });
    }
    return outcome;
  }

  async delete(jobId: string): Promise<boolean> {
    const { db, s } = this.#open();
    const gone = db.transaction(() => s.delete.get(jobId) as { version: number } | undefined).immediate();
    if (!gone) return false;
    this.#emit({ jobId, phase: null, version: gone.version, kind: 'deleted' });
    return true;
  }

  /**
   * Streams in keyset pages: each page is its own short read, so writers are never
   * held up by a slow reader, and a job is listed at most once even if others change
   * while the list is read.
   */
  async *list(filter: JobListFilter): AsyncIterable<JobSummary> {
    this.#open();
    const last = filter.last;
    if (last !== undefined && (!Number.isInteger(last) || last < 0)) {
      throw new RangeError(`list: last must be a non-negative integer, got ${last}`);
    }
    let remaining = last ?? Number.POSITIVE_INFINITY;
    let before = filter.before;
    while (remaining > 0) {
      const limit = Math.min(this.#pageSize, remaining);
      const { sql, params } = listStatement(filter, before, limit);
      const { db } = this.#open();
      const rows = db.transaction(() => this.#shape(sql).all(params) as SummaryRow[]).deferred();
      for (const row of rows) yield summaryFromRow(row);
      remaining -= rows.length;
      if (rows.length < limit) return;
      const tail = rows[rows.length - 1]!;
      before = { creationTime: tail.creation_time, jobId: tail.job_id };
    }
  }

  async countByPhase(filter: { ownerId?: string | null; jobType?: string } = {}): Promise<PhaseCounts> {
    this.#open();
    const where: string[] = [];
    const params: Params = {};
    ownerCondition(filter.ownerId, where, params);
    if (filter.jobType !== undefined) {
      where.push('job_type = @job_type');
      params.job_type = filter.jobType;
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = this.#shape(`SELECT phase, count(*) AS n FROM jobs ${clause} GROUP BY phase`).all(
      params,
    ) as {
      phase: Phase;
      n: number;
    }[];
    const counts = Object.fromEntries(PHASES.map((p) => [p, 0])) as PhaseCounts;
    for (const row of rows) counts[row.phase] = row.n;
    return counts;
  }

  async claimNext(request: ClaimRequest): Promise<Job | null> {
    const { db, s } = this.#open();
    const claimed = db
      .transaction((): Job | null => {
        const jobId = this.#pickQueued(request);
        if (jobId === null) return null;
        s.claim.run({
          job_id: jobId,
          now: request.now,
          lease_node: request.nodeId,
          lease_expires: request.now + request.leaseMs,
        });
        return this.#read(jobId);
      })
      .immediate();
    if (claimed) {
      this.#emit({ jobId: claimed.jobId, phase: claimed.phase, version: claimed.version, kind: 'updated' });
    }
    return claimed;
  }

  /**
   * Renewing is a heartbeat, not a change of the job: the version stays, so a
   * client's compare-and-set does not fail because a runner is alive, and no
   * change is announced.
   */
  async renewLeases(nodeId: string, jobIds: readonly string[], expiresAt: number): Promise<string[]> {
    const { db, s } = this.#open();
    return db
      .transaction(() =>
        jobIds.filter(
          (jobId) =>
            s.renewLease.run({ job_id: jobId, lease_node: nodeId, lease_expires: expiresAt }).changes === 0,
        ),
      )
      .immediate();
  }

  async expiredLeases(now: number, limit: number): Promise<Job[]> {
    const { db, s } = this.#open();
    return db
      .transaction(() =>
        (s.expiredLeases.all(now, limit) as { job_id: string }[]).map((row) => this.#read(row.job_id)!),
      )
      .deferred();
  }

  async dueForDestruction(now: number, limit: number): Promise<{ jobId: string; destruction: number }[]> {
    const { s } = this.#open();
    return (s.dueForDestruction.all(now, limit) as { job_id: string; destruction: number }[]).map((row) => ({
      jobId: row.job_id,
      destruction: row.destruction,
    }));
  }

  async nextDestruction(): Promise<number | null> {
    const { s } = this.#open();
    return (s.nextDestruction.get() as { t: number | null }).t;
  }

  async *allJobIds(): AsyncIterable<string> {
    let after = '';
    for (;;) {
      const { s } = this.#open();
      const rows = s.jobIdsAfter.all(after, ID_PAGE_SIZE) as { job_id: string }[];
      for (const row of rows) yield row.job_id;
      if (rows.length < ID_PAGE_SIZE) return;
      after = rows[rows.length - 1]!.job_id;
    }
  }

  onResync(listener: () => void): () => void {
    const entry = () => listener();
    this.#resyncListeners.add(entry);
    if (!this.#foreignCommitTimer && this.#db) {
      this.#dataVersion = this.#readDataVersion();
      // One cheap pragma per tick, and only while someone listens.
      this.#foreignCommitTimer = setInterval(() => this.#checkForeignCommits(), this.#foreignCommitPollMs);
      this.#foreignCommitTimer.unref();
    }
    return () => {
      this.#resyncListeners.delete(entry);
      if (this.#resyncListeners.size === 0 && this.#foreignCommitTimer) {
        clearInterval(this.#foreignCommitTimer);
        this.#foreignCommitTimer = null;
      }
    };
  }

  #readDataVersion(): number {
    return this.#db ? Number(this.#db.pragma('data_version', { simple: true })) : 0;
  }

  #checkForeignCommits(): void {
    if (!this.#db) return;
    const now = this.#readDataVersion();
    if (now === this.#dataVersion) return;
    this.#dataVersion = now;
    for (const listener of [...this.#resyncListeners]) {
      try {
        listener();
      } catch (err) {
        process.emitWarning(`job resync listener failed: ${(err as Error).message}`);
      }
    }
  }

  watch(listener: JobChangeListener): () => void {
    // A wrapper per call, so that watching twice with one function yields two subscriptions.
    const entry: JobChangeListener = (change) => listener(change);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /**
   * Chooses the job to claim, inside the caller's IMMEDIATE transaction. Owners with
   * nothing running come first, in FIFO order; then owners by how few jobs they run.
   */
  #pickQueued(request: ClaimRequest): string | null {
    const s = this.#statements!;
    const perOwner = s.executingByOwner.all() as { owner_id: string | null; n: number }[];
    const running = perOwner.reduce((sum, row) => sum + row.n, 0);
    if (running >= request.maxExecuting) return null;

    const perType = new Map(
      (s.executingByType.all() as { job_type: string; n: number }[]).map((row) => [row.job_type, row.n]),
    );
    const types = request.jobTypes
      .filter((t) => (perType.get(t.name) ?? 0) < t.maxExecuting)
      .map((t) => t.name);
    if (types.length === 0 || request.maxExecutingPerOwner <= 0) return null;
    const typesJson = JSON.stringify(types);
    const runningOf = new Map(perOwner.map((row) => [row.owner_id, row.n]));

    // Usually the front of the queue holds a job of an idle owner: one short read.
    const window = { types: typesJson, limit: QUEUE_FRONT };
    const busyOwners = perOwner.filter((row) => row.owner_id !== null).map((row) => row.owner_id);
    const idleAtFront = s.idleAtQueueFront.get({
      ...window,
      busy_owners: JSON.stringify(busyOwners),
      anonymous_busy: runningOf.has(null) ? 1 : 0,
    }) as QueuedRow | undefined;
    if (idleAtFront) return idleAtFront.job_id;
    if ((s.queueFrontSize.get(window) as { n: number }).n === QUEUE_FRONT) {
      // The front is all busy owners' jobs (one owner flooding the queue): rather than
      // read past them all, seek the oldest job of each idle owner with jobs queued.
      const owners = (s.queuedOwners.all() as { owner_id: string }[]).map(
        (row) => row.owner_id as string | null,
      );
      const idle = [null, ...owners].filter((owner) => !runningOf.has(owner));
      const best = this.#oldestOf(idle, typesJson);
      if (best) return best.job_id;
    }

    const levels = [...new Set(runningOf.values())]
      .filter((n) => n < request.maxExecutingPerOwner)
      .sort((a, b) => a - b);
    for (const level of levels) {
      const owners = [...runningOf].filter(([, n]) => n === level).map(([owner]) => owner);
      const best = this.#oldestOf(owners, typesJson);
      if (best) return best.job_id;
    }
    return null;
  }

  /** The oldest QUEUED job of eligible type among these owners: one index seek per owner. */
  #oldestOf(owners: readonly (string | null)[], typesJson: string): QueuedRow | undefined {
    const s = this.#statements!;
    let best: QueuedRow | undefined;
    for (const owner of owners) {
      const candidate = s.oldestQueuedOfOwner.get({ owner_id: owner, types: typesJson }) as
        | QueuedRow
        | undefined;
      if (candidate && (!best || isOlder(candidate, best))) best = candidate;
    }
    return best;
  }

  #read(jobId: string): Job | null {
    const s = this.#statements!;
    const row = s.job.get(jobId) as JobRow | undefined;
    if (!row) return null;
    return jobFromRows(row, s.results.all(jobId) as ResultRow[]);
  }

  #shape(sql: string): Statement {
    let statement = this.#shaped.get(sql);
    if (!statement) {
      statement = this.#open().db.prepare(sql);
      this.#shaped.set(sql, statement);
    }
    return statement;
  }

  #open(): { db: Database.Database; s: ReturnType<typeof prepareFixed> } {
    if (!this.#db || !this.#statements) {
      throw new Error(`SQLite job store ${this.file} is not open: call init() first (or it was closed)`);
    }
    return { db: this.#db, s: this.#statements };
  }

  #emit(change: JobChange): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (err) {
        // A faulty listener must not turn a committed change into a failed call.
        process.emitWarning(`job change listener failed: ${(err as Error).message}`);
      }
    }
  }
}

interface QueuedRow {
  job_id: string;
  owner_id: string | null;
  creation_time: number;
}

function isOlder(a: QueuedRow, b: QueuedRow): boolean {
  return a.creation_time < b.creation_time || (a.creation_time === b.creation_time && a.job_id < b.job_id);
}

/** Sets WAL mode; when two processes create the file at once, the switch itself can meet a lock. */
function setWal(db: Database.Database): void {
  for (let attempt = 0; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 50) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

function ownerCondition(ownerId: string | null | undefined, where: string[], params: Params): void {
  if (ownerId === null) where.push('owner_id IS NULL');
  else if (ownerId !== undefined) {
    where.push('owner_id = @owner_id');
    params.owner_id = ownerId;
  }
}

function listStatement(filter: JobListFilter, before: JobListFilter['before'], limit: number) {
  const where: string[] = [];
  const params: Params = { limit };
  ownerCondition(filter.ownerId, where, params);
  if (filter.jobType !== undefined) {
    where.push('job_type = @job_type');
    params.job_type = filter.jobType;
  }
  if (filter.phases === undefined) where.push("phase <> 'ARCHIVED'");
  else if (filter.phases.length === 1) {
    where.push('phase = @phase');
    params.phase = filter.phases[0]!;
  } else {
    // Unary + keeps the planner on a list-order index: filtering rows read in order stays
    // linear over all pages, where a per-page sort of every matching row would not.
    where.push('+phase IN (SELECT value FROM json_each(@phases))');
    params.phases = JSON.stringify(filter.phases);
  }
  if (filter.after !== undefined) {
    where.push('creation_time > @after');
    params.after = filter.after;
  }
  if (before !== undefined) {
    where.push('(creation_time, job_id) < (@before_time, @before_id)');
    params.before_time = before.creationTime;
    params.before_id = before.jobId;
  }
  const sql = `SELECT ${SUMMARY_COLUMNS} FROM jobs WHERE ${where.join(' AND ')}
    ORDER BY creation_time DESC, job_id DESC LIMIT @limit`;
  return { sql, params };
}

/** One compare-and-set UPDATE: the patch's columns, guarded by the expectation, version + 1. */
function updateStatement(jobId: string, expect: JobExpectation, patch: JobPatch) {
  const set: string[] = [];
  const params: Params = { job_id: jobId };
  const assign = (column: string, value: string | number | null) => {
    set.push(`${column} = @${column}`);
    params[column] = value;
  };
  for (const [column, value] of patchColumns(patch, (b) => (b ? 1 : 0))) assign(column, value);
  set.push('version = version + 1');

  const where = ['job_id = @job_id'];
  if (expect.phase !== undefined) {
    where.push('phase = @expect_phase');
    params.expect_phase = expect.phase;
  }
  if (expect.version !== undefined) {
    where.push('version = @expect_version');
    params.expect_version = expect.version;
  }
  if (expect.leaseNodeId !== undefined) {
    where.push('lease_node = @expect_lease_node');
    params.expect_lease_node = expect.leaseNodeId;
  }
  const sql = `UPDATE jobs SET ${set.join(', ')} WHERE ${where.join(' AND ')} RETURNING version`;
  return { sql, params };
}

function resultParams(jobId: string, result: JobResult): Params {
  return {
    job_id: jobId,
    id: result.id,
    media_type: result.mediaType,
    size: result.size,
    file_name: result.fileName ?? null,
    href: result.href ?? null,
  };
}

/** The statements whose text never changes, prepared once when the store opens. */
function prepareFixed(db: Database.Database) {
  return {
    exists: db.prepare('SELECT 1 FROM jobs WHERE job_id = ?'),
    insert: db.prepare(`INSERT INTO jobs (job_id, job_type, run_id, owner_id, phase, quote, creation_time,
        execution_duration, destruction, parameters, job_info, version)
      VALUES (@job_id, @job_type, @run_id, @owner_id, @phase, @quote, @creation_time,
        @execution_duration, @destruction, @parameters, @job_info, 1)`),
    job: db.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE job_id = ?`),
    results: db.prepare(
      'SELECT id, media_type, size, file_name, href FROM results WHERE job_id = ? ORDER BY ordinal',
    ),
    errorDetail: db.prepare('SELECT error_detail FROM jobs WHERE job_id = ?'),
    clearResults: db.prepare('DELETE FROM results WHERE job_id = ?'),
    // A replaced result keeps its place in the list; a new one goes to the end.
    upsertResult: db.prepare(`INSERT INTO results (job_id, id, media_type, size, file_name, href, ordinal)
      VALUES (@job_id, @id, @media_type, @size, @file_name, @href,
        (SELECT coalesce(max(ordinal), 0) + 1 FROM results WHERE job_id = @job_id))
      ON CONFLICT (job_id, id) DO UPDATE SET media_type = excluded.media_type, size = excluded.size,
        file_name = excluded.file_name, href = excluded.href`),
    delete: db.prepare('DELETE FROM jobs WHERE job_id = ? RETURNING version'),
    executingByOwner: db.prepare(
      "SELECT owner_id, count(*) AS n FROM jobs WHERE phase = 'EXECUTING' GROUP BY owner_id",
    ),
    executingByType: db.prepare(
      "SELECT job_type, count(*) AS n FROM jobs WHERE phase = 'EXECUTING' GROUP BY job_type",
    ),
    idleAtQueueFront: db.prepare(`SELECT job_id, owner_id, creation_time FROM (
        SELECT job_id, owner_id, creation_time FROM jobs INDEXED BY jobs_by_phase
        WHERE phase = 'QUEUED' AND job_type IN (SELECT value FROM json_each(@types))
        ORDER BY creation_time, job_id LIMIT @limit)
      WHERE CASE WHEN owner_id IS NULL THEN @anonymous_busy = 0
                 ELSE owner_id NOT IN (SELECT value FROM json_each(@busy_owners)) END
      ORDER BY creation_time, job_id LIMIT 1`),
    queueFrontSize: db.prepare(`SELECT count(*) AS n FROM (
        SELECT 1 FROM jobs INDEXED BY jobs_by_phase
        WHERE phase = 'QUEUED' AND job_type IN (SELECT value FROM json_each(@types))
        ORDER BY creation_time, job_id LIMIT @limit)`),
    // Distinct owners with queued jobs, by skipping from one owner to the next in the index.
    queuedOwners: db.prepare(`WITH RECURSIVE owners (owner_id) AS (
        SELECT min(owner_id) FROM jobs INDEXED BY jobs_queued_by_owner WHERE phase = 'QUEUED'
        UNION ALL
        SELECT (SELECT min(owner_id) FROM jobs INDEXED BY jobs_queued_by_owner
                WHERE phase = 'QUEUED' AND owner_id > owners.owner_id)
        FROM owners WHERE owners.owner_id IS NOT NULL
      )
      SELECT owner_id FROM owners WHERE owner_id IS NOT NULL`),
    oldestQueuedOfOwner:
      db.prepare(`SELECT job_id, owner_id, creation_time FROM jobs INDEXED BY jobs_queued_by_owner
      WHERE phase = 'QUEUED' AND owner_id IS @owner_id AND job_type IN (SELECT value FROM json_each(@types))
      ORDER BY creation_time, job_id LIMIT 1`),
    claim: db.prepare(`UPDATE jobs SET phase = 'EXECUTING', start_time = @now, lease_node = @lease_node,
        lease_expires = @lease_expires, version = version + 1
      WHERE job_id = @job_id AND phase = 'QUEUED'`),
    renewLease: db.prepare(`UPDATE jobs SET lease_expires = @lease_expires
      WHERE job_id = @job_id AND phase = 'EXECUTING' AND lease_node = @lease_node`),
    expiredLeases: db.prepare(`SELECT job_id FROM jobs
      WHERE phase = 'EXECUTING' AND lease_expires < ? ORDER BY lease_expires, job_id LIMIT ?`),
    dueForDestruction: db.prepare(`SELECT job_id, destruction FROM jobs
      WHERE phase <> 'ARCHIVED' AND destruction IS NOT NULL AND destruction <= ?
      ORDER BY destruction, job_id LIMIT ?`),
    nextDestruction: db.prepare(
      "SELECT min(destruction) AS t FROM jobs WHERE phase <> 'ARCHIVED' AND destruction IS NOT NULL",
    ),
    jobIdsAfter: db.prepare('SELECT job_id FROM jobs WHERE job_id > ? ORDER BY job_id LIMIT ?'),
  };
}
