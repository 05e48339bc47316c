import pg from 'pg';
import { BadRequestError } from '../../core/errors.js';
import type { Job, JobSummary } from '../../core/job.js';
import { PHASES, type Phase } from '../../core/phases.js';
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
import { ChangeFeed, type StoreLog } from './change-feed.js';
import { migratePg } from './migrations.js';
import { DEFAULT_SCHEMA, type StoreNames, storeNames } from './names.js';
import {
  jobFromRow,
  newJobValues,
  type PgJobRow,
  type PgSummaryRow,
  resultArrays,
  summaryFromRow,
} from './rows.js';
import {
  casOnlySql,
  casUpdateSql,
  countByPhaseSql,
  fixedStatements,
  listPageSql,
  type Sql,
  type SqlValue,
} from './statements.js';
import { VersionFloor } from './version-floor.js';

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database`; or give `connection` instead. */
  readonly connectionString?: string;
  /** Extra client settings (host, user, ssl...), merged over the connection string. */
  readonly connection?: pg.ClientConfig;
  /** The PostgreSQL schema holding the tables (default `uws`). */
  readonly schema?: string;
  /** Pooled connections per store (the LISTEN connection comes on top). */
  readonly poolSize?: number;
  /** Rows per page when streaming the job list, so a huge list never sits in memory. */
  readonly pageSize?: number;
  /** Change feed: how often the LISTEN connection is checked (ms). */
  readonly listenPingMs?: number;
  /** Change feed: how far back a replay after reconnecting reaches before the last good check (ms). */
  readonly replayMarginMs?: number;
  /** Change feed: longest pause between reconnect attempts (ms). */
  readonly maxReconnectBackoffMs?: number;
  /** How long deletions are remembered for replays (ms). */
  readonly deletionRetentionMs?: number;
  readonly log?: StoreLog;
}

const DEFAULT_PAGE_SIZE = 500;
const MAX_NAMED_STATEMENTS = 256;
const ID_PAGE_SIZE = 1000;

/** int8 (bigint) columns hold epoch milliseconds and counts, all well within 2^53. */
const INT8_OID = 20;
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

const WARN_LOG: StoreLog = {
  warn: (obj, msg) => process.emitWarning(`${msg} ${JSON.stringify(obj)}`, 'PostgresJobStore'),
};

/**
 * The shared JobStore for several nodes: one PostgreSQL database, a pool per node.
 * Every method is one transaction, most of them one statement sent as a named
 * (server-side prepared) statement. Changes are announced by triggers with NOTIFY
 * in the committing transaction; every store instance hears other nodes' changes
 * through a dedicated LISTEN connection (ChangeFeed) and announces its own at once,
 * dropping their echoes and any stale notification (VersionFloor).
 */
export class PostgresJobStore implements JobStore {
  readonly kind = 'postgres' as const;
  readonly names: StoreNames;
  readonly #connection: pg.ClientConfig;
  readonly #poolSize: number;
  readonly #pageSize: number;
  readonly #log: StoreLog;
  readonly #sql: ReturnType<typeof fixedStatements>;
  readonly #options: PostgresStoreOptions;
  #pool: pg.Pool | null = null;
  #feed: ChangeFeed | null = null;
  #opening: Promise<void> | null = null;
  readonly #listeners = new Set<JobChangeListener>();
  readonly #resyncListeners = new Set<() => void>();
  /** Per job, watch() never goes back in version (see VersionFloor). */
  readonly #floor = new VersionFloor();
  /** Statement names by SQL text: the same text always gets the same name. */
  readonly #statementNames = new Map<string, string>();

  constructor(options: PostgresStoreOptions) {
    this.#options = options;
    this.names = storeNames(options.schema ?? DEFAULT_SCHEMA);
    this.#connection = {
      ...(options.connectionString !== undefined ? { connectionString: options.connectionString } : {}),
      application_name: 'ivoa-uws',
      ...options.connection,
    };
    this.#poolSize = options.poolSize ?? 10;
    this.#pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.#log = options.log ?? WARN_LOG;
    this.#sql = fixedStatements(this.names.s);
  }

  /** The schema name, for messages. */
  get schema(): string {
    return this.names.schema;
  }

  /** The LISTEN connection's state, for health checks and tests. */
  get changeFeed(): { connected: boolean; connects: number; backendPid: number | null } {
    const feed = this.#feed;
    return {
      connected: feed?.connected ?? false,
      connects: feed?.connects ?? 0,
      backendPid: feed?.backendPid ?? null,
    };
  }

  init(): Promise<void> {
    if (this.#pool) return Promise.resolve();
    // Two callers at once share one opening, not two pools.
    this.#opening ??= this.#openOnce().finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #openOnce(): Promise<void> {
    const pool = new pg.Pool({ ...this.#connection, types: TYPES, max: this.#poolSize });
    // An idle pooled connection that dies (database restart) must not crash the process;
    // the pool drops it and the next query opens a fresh one.
    pool.on('error', (err) => this.#log.warn({ err: err.message }, 'PostgreSQL pool connection lost'));
    const feed = new ChangeFeed({
      names: this.names,
      connection: this.#connection,
      deliver: (change) => this.#emit(change),
      resynced: () => this.#emitResync(),
      log: this.#log,
      pingMs: this.#options.listenPingMs ?? 5_000,
      replayMarginMs: this.#options.replayMarginMs ?? 10_000,
      maxBackoffMs: this.#options.maxReconnectBackoffMs ?? 5_000,
      deletionRetentionMs: this.#options.deletionRetentionMs ?? 86_400_000,
    });
    try {
      const client = await pool.connect();
      try {
        await migratePg(client, this.names);
      } finally {
        client.release();
      }
      await feed.start();
    } catch (err) {
      await feed.stop();
      await pool.end().catch(() => {});
      throw err;
    }
    this.#pool = pool;
    this.#feed = feed;
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    const feed = this.#feed;
    this.#pool = null;
    this.#feed = null;
    await feed?.stop();
    await pool?.end();
  }

  async create(job: NewJob): Promise<Job> {
    const rows = await this.#query<PgJobRow>(this.#sql.insert, newJobValues(job));
    if (!rows[0]) throw new Error(`job ${job.jobId} already exists`);
    return this.#wrote(jobFromRow({ ...rows[0], results: null }), 'created');
  }

  async get(jobId: string): Promise<Job | null> {
    const rows = await this.#query<PgJobRow>(this.#sql.get, [jobId]);
    return rows[0] ? jobFromRow(rows[0]) : null;
  }

  async getErrorDetail(jobId: string): Promise<string | null> {
    const rows = await this.#query<{ error_detail: string | null }>(this.#sql.errorDetail, [jobId]);
    return rows[0]?.error_detail ?? null;
  }

  async update(jobId: string, expect: JobExpectation, patch: JobPatch): Promise<UpdateOutcome> {
    if (patch.clearResults) return this.#updateClearingResults(jobId, expect, patch);
    const rows = await this.#run<PgJobRow>(casUpdateSql(this.names.s, jobId, expect, patch));
    if (rows[0]) return { ok: true, job: this.#wrote(jobFromRow(rows[0]), 'updated') };
    return { ok: false, current: await this.get(jobId) };
  }

  /** Clearing and re-adding results in one statement would touch a row twice: a short transaction instead. */
  async #updateClearingResults(
    jobId: string,
    expect: JobExpectation,
    patch: JobPatch,
  ): Promise<UpdateOutcome> {
    const job = await this.#transaction(async (client) => {
      const cas = casOnlySql(this.names.s, jobId, expect, patch);
      const changed = await this.#on<{ version: number }>(client, cas.text, cas.values);
      if (changed.length === 0) return null;
      await this.#on(client, this.#sql.clearResults, [jobId]);
      const add = patch.addResults ?? [];
      if (add.length > 0) {
        const a = resultArrays(add);
        await this.#on(client, this.#sql.addResults, [
          jobId,
          a.ids,
          a.mediaTypes,
          a.sizes,
          a.fileNames,
          a.hrefs,
        ]);
      }
      const rows = await this.#on<PgJobRow>(client, this.#sql.get, [jobId]);
      return jobFromRow(rows[0]!);
    });
    if (job) return { ok: true, job: this.#wrote(job, 'updated') };
    return { ok: false, current: await this.get(jobId) };
  }

  async delete(jobId: string): Promise<boolean> {
    const rows = await this.#query<{ version: number }>(this.#sql.delete, [jobId]);
    if (rows[0]) this.#emit({ jobId, phase: null, version: rows[0].version, kind: 'deleted' });
    return rows.length > 0;
  }

  /**
   * Streams in keyset pages: each page is its own short statement, so no cursor
   * holds a connection or a snapshot while a slow client reads, and a job is listed
   * at most once even if others change while the list is read.
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
      const rows = await this.#run<PgSummaryRow>(listPageSql(this.names.s, filter, before, limit));
      for (const row of rows) yield summaryFromRow(row);
      remaining -= rows.length;
      if (rows.length < limit) return;
      const tail = rows[rows.length - 1]!;
      before = { creationTime: tail.creation_time, jobId: tail.job_id };
    }
  }

  async countByPhase(filter: { ownerId?: string | null; jobType?: string } = {}): Promise<PhaseCounts> {
    const rows = await this.#run<{ phase: Phase; n: number }>(countByPhaseSql(this.names.s, filter));
    const counts = Object.fromEntries(PHASES.map((p) => [p, 0])) as PhaseCounts;
    for (const row of rows) counts[row.phase] = row.n;
    return counts;
  }

  async claimNext(request: ClaimRequest): Promise<Job | null> {
    const rows = await this.#query<PgJobRow>(this.#sql.claim, [
      request.nodeId,
      request.now,
      request.leaseMs,
      clampInt(request.maxExecuting),
      clampInt(request.maxExecutingPerOwner),
      request.jobTypes.map((t) => t.name),
      request.jobTypes.map((t) => clampInt(t.maxExecuting)),
    ]);
    return rows[0] ? this.#wrote(jobFromRow(rows[0]), 'updated') : null;
  }

  /**
   * Renewing is a heartbeat, not a change of the job: the version stays, so a
   * client's compare-and-set does not fail because a runner is alive, and no
   * change is announced (the trigger fires only when the version moves).
   */
  async renewLeases(nodeId: string, jobIds: readonly string[], expiresAt: number): Promise<string[]> {
    if (jobIds.length === 0) return [];
    const rows = await this.#query<{ job_id: string }>(this.#sql.renewLeases, [nodeId, jobIds, expiresAt]);
    const held = new Set(rows.map((r) => r.job_id));
    return jobIds.filter((id) => !held.has(id));
  }

  async expiredLeases(now: number, limit: number): Promise<Job[]> {
    const rows = await this.#query<PgJobRow>(this.#sql.expiredLeases, [now, limit]);
    return rows.map(jobFromRow);
  }

  async dueForDestruction(now: number, limit: number): Promise<{ jobId: string; destruction: number }[]> {
    const rows = await this.#query<{ job_id: string; destruction: number }>(this.#sql.dueForDestruction, [
      now,
      limit,
    ]);
    return rows.map((row) => ({ jobId: row.job_id, destruction: row.destruction }));
  }

  async nextDestruction(): Promise<number | null> {
    const rows = await this.#query<{ t: number | null }>(this.#sql.nextDestruction, []);
    return rows[0]?.t ?? null;
  }

  async *allJobIds(): AsyncIterable<string> {
    let after = '';
    for (;;) {
      const rows = await this.#query<{ job_id: string }>(this.#sql.jobIdsAfter, [after, ID_PAGE_SIZE]);
      for (const row of rows) yield row.job_id;
      if (rows.length < ID_PAGE_SIZE) return;
      after = rows[rows.length - 1]!.job_id;
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
   * Calls `listener` after the change feed reconnected and replayed what it may have
   * missed (PostgreSQL only; watch() listeners have then already had the replay).
   */
  onResync(listener: () => void): () => void {
    const entry = () => listener();
    this.#resyncListeners.add(entry);
    return () => {
      this.#resyncListeners.delete(entry);
    };
  }

  /** Runs a statement on the pool as a named (prepared) statement. */
  async #query<R extends object>(text: string, values: readonly SqlValue[]): Promise<R[]> {
    const pool = this.#open();
    try {
      return (await pool.query<R>(this.#statement(text, values))).rows;
    } catch (err) {
      throw storeError(err);
    }
  }

  #run<R extends object>(sql: Sql): Promise<R[]> {
    return this.#query<R>(sql.text, sql.values);
  }

  async #on<R extends object>(
    client: pg.PoolClient,
    text: string,
    values: readonly SqlValue[],
  ): Promise<R[]> {
    try {
      return (await client.query<R>(this.#statement(text, values))).rows;
    } catch (err) {
      throw storeError(err);
    }
  }

  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T | null>): Promise<T | null> {
    const client = await this.#open().connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const value = await fn(client);
      await client.query(value === null ? 'ROLLBACK' : 'COMMIT');
      return value;
    } catch (err) {
      broken = err as Error;
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      // A connection that failed mid-transaction is not handed out again.
      client.release(broken);
    }
  }

  /**
   * Statements are prepared once per pooled connection under a name kept per SQL
   * text. The texts that vary (list filters, patch shapes) come in a bounded number
   * of shapes in practice; past MAX_NAMED_STATEMENTS, new shapes run unnamed so that
   * no odd caller can grow every connection's prepared statements without end.
   */
  #statement(text: string, values: readonly SqlValue[]): pg.QueryConfig {
    let name = this.#statementNames.get(text);
    if (!name && this.#statementNames.size < MAX_NAMED_STATEMENTS) {
      name = `uws_${this.#statementNames.size}`;
      this.#statementNames.set(text, name);
    }
    return { ...(name ? { name } : {}), text, values: values as unknown[] };
  }

  #open(): pg.Pool {
    if (!this.#pool) {
      throw new Error(
        `PostgreSQL job store (schema ${this.names.schema}) is not open: call init() first (or it was closed)`,
      );
    }
    return this.#pool;
  }

  /** Announces a change this store committed, before handing the job to the caller. */
  #wrote(job: Job, kind: 'created' | 'updated'): Job {
    this.#emit({ jobId: job.jobId, phase: job.phase, version: job.version, kind });
    return job;
  }

  #emit(change: JobChange): void {
    if (!this.#floor.admit(change)) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (err) {
        // A faulty listener must not break the feed for the others.
        process.emitWarning(`job change listener failed: ${(err as Error).message}`);
      }
    }
  }

  #emitResync(): void {
    for (const listener of [...this.#resyncListeners]) {
      try {
        listener();
      } catch (err) {
        process.emitWarning(`resync listener failed: ${(err as Error).message}`);
      }
    }
  }
}

/**
 * PostgreSQL text cannot hold NUL characters (SQLite's can): a value with one is the
 * caller's bad input, not a server fault.
 */
function storeError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === '22021' || code === '22P05') {
    return new BadRequestError(`a value cannot be stored: ${(err as Error).message}`);
  }
  return err;
}

/** Limits are integers in SQL; Infinity (no limit) and huge values become int4's maximum. */
function clampInt(n: number): number {
  if (!Number.isFinite(n)) return n > 0 ? 2_147_483_647 : 0;
  return Math.max(0, Math.min(2_147_483_647, Math.floor(n)));
}
