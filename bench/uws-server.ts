/**
 * The UWS under test, in its own process: createUwsService + createHttpServer on
 * 127.0.0.1 (any free port), with a trivial in-process job type `noop` that writes
 * a three-byte result. Controlled by bench/run.ts over IPC (bench/lib/child.ts).
 *
 * argv[2]: JSON { store, workDir, maxExecuting?, runJobs?, nodeId? }
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createUwsService } from '../src/app.js';
import type { Job } from '../src/core/job.js';
import { inProcessExecutor } from '../src/exec/executors/in-process.js';
import type { JobTypeDefinition } from '../src/exec/job-type.js';
import { createHttpServer } from '../src/http/server.js';
import { workDirStager } from '../src/http/uploads.js';
import { ANONYMOUS } from '../src/service.js';
import { openStore } from '../src/store/index.js';
import type { JobChangeListener, JobStore, NewJob } from '../src/store/types.js';
import { serveCommands } from './lib/child.js';

interface Options {
  readonly store: string;
  readonly workDir: string;
  readonly maxExecuting?: number;
  readonly runJobs?: boolean;
  readonly nodeId?: string;
  /** Count and time every better-sqlite3 statement execution, by SQL text (profiling only). */
  readonly sqlStats?: boolean;
  /**
   * What-if changes of code outside bench/, emulated here to measure a proposed fix:
   * 'claim-gate': the scheduler asks the store for queued work only when a job was
   * queued since its last empty claim (or its poll timer fires).
   * 'group-commit' (SQLite): writes of one event-loop turn share one commit.
   * 'drop-stale-changes': the scheduler never sees a change older than its claim.
   */
  readonly experiments?: readonly string[];
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;

const noop: JobTypeDefinition = {
  name: 'noop',
  description: 'does nothing but write the result "result" (ok)',
  parameters: [{ name: 'N', type: 'integer', description: 'ignored' }],
  executor: inProcessExecutor(async (ctx) => {
    await ctx.results.write('result', 'ok\n', 'text/plain');
  }),
};

/** Store calls by kind: every write method is one committed transaction (JobStore contract). */
const counts = { commits: 0, reads: 0, byMethod: {} as Record<string, number> };
const WRITES = new Set(['create', 'update', 'delete', 'claimNext', 'renewLeases']);

/** Claim gate (experiment): no claim transaction while nothing was queued since the last empty claim. */
let queuedSince = true;

/**
 * Group commit (experiment, SQLite): the writes that arrive in one turn of the event
 * loop share one transaction, committed in the next check phase; each write's
 * caller gets its answer only after that commit, as with a real group commit.
 */
const grouped = options.experiments?.includes('group-commit') ?? false;
let group: Promise<void> | null = null;

async function inGroup<T>(write: () => Promise<T>): Promise<T> {
  const db = storeDb;
  if (!db) return write();
  if (!group) {
    db.exec('BEGIN IMMEDIATE');
    counts.commits++;
    group = new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        group = null;
        try {
          db.exec('COMMIT');
          resolve();
        } catch (err) {
          db.exec('ROLLBACK');
          reject(err);
        }
      }),
    );
  }
  const committed = group;
  const result = await write();
  await committed;
  return result;
}

/**
 * Drop stale changes (experiment): changes older than the version this node claimed a
 * job at are not passed on, as the scheduler would do if it compared versions.
 */
const dropStale = options.experiments?.includes('drop-stale-changes') ?? false;
const claimedVersion = new Map<string, number>();

function counting(store: JobStore): JobStore {
  const gate = options.experiments?.includes('claim-gate') ?? false;
  if (gate) {
    store.watch((change) => {
      if (change.phase === 'QUEUED') queuedSince = true;
    });
  }
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      if (prop === 'watch' && dropStale) {
        return (listener: JobChangeListener) =>
          target.watch((change) => {
            const claimed = claimedVersion.get(change.jobId);
            if (claimed !== undefined && change.kind !== 'deleted' && change.version < claimed) return;
            listener(change);
          });
      }
      if (dropStale && prop === 'claimNext') {
        return async (...args: unknown[]) => {
          counts.byMethod[prop] = (counts.byMethod[prop] ?? 0) + 1;
          counts.commits++;
          const job = (await (value as (...a: unknown[]) => Promise<Job | null>).apply(target, args)) ?? null;
          if (job) claimedVersion.set(job.jobId, job.version);
          return job;
        };
      }
      if (prop === 'init' || prop === 'close' || prop === 'watch') return value.bind(target);
      if (gate && prop === 'claimNext') {
        return async (...args: unknown[]) => {
          if (!queuedSince) return null;
          // Cleared before the claim: a job queued while it runs sets it again.
          queuedSince = false;
          counts.byMethod[prop] = (counts.byMethod[prop] ?? 0) + 1;
          counts.commits++;
          const job = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (job) queuedSince = true; // there may be more
          return job;
        };
      }
      if (grouped && WRITES.has(prop)) {
        return (...args: unknown[]) => {
          counts.byMethod[prop] = (counts.byMethod[prop] ?? 0) + 1;
          return inGroup(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        };
      }
      return (...args: unknown[]) => {
        counts.byMethod[prop] = (counts.byMethod[prop] ?? 0) + 1;
        if (WRITES.has(prop)) counts.commits++;
        else counts.reads++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Per SQL text: executions and milliseconds spent in them (better-sqlite3 runs them synchronously). */
const sqlStats = new Map<string, { calls: number; ms: number }>();

if (options.sqlStats) {
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
  probe.close();
  for (const method of ['get', 'run', 'all', 'iterate']) {
    const original = statementProto[method] as (this: { source: string }, ...a: unknown[]) => unknown;
    statementProto[method] = function (this: { source: string }, ...args: unknown[]) {
      const t = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const key = this.source.replace(/\s+/g, ' ').trim();
        const entry = sqlStats.get(key) ?? { calls: 0, ms: 0 };
        entry.calls++;
        entry.ms += performance.now() - t;
        sqlStats.set(key, entry);
      }
    };
  }
}

/**
 * The SQLite store's own connection, caught as it prepares its statements, so that
 * `fill` can wrap many store.create calls in one transaction (each create's own
 * transaction then becomes a savepoint): a million jobs in seconds, not minutes.
 */
let storeDb: Database.Database | null = null;
const originalPrepare = Database.prototype.prepare;
Database.prototype.prepare = function (this: Database.Database, source: string) {
  storeDb ??= this;
  return originalPrepare.call(this, source);
} as typeof originalPrepare;

const raw = await openStore(options.store);
if (raw.kind !== 'sqlite') storeDb = null;
const uws = await createUwsService({
  store: counting(raw),
  workDir: options.workDir,
  jobTypes: [noop],
  builtins: false,
  runJobs: options.runJobs ?? true,
  maxExecuting: options.maxExecuting ?? 64,
  // Warnings and errors of the scheduler and reaper go to stderr: a trivial job should raise none.
  log: {
    info() {},
    warn: (obj, msg) =>
      console.error(`[uws-server ${process.pid}] warn: ${msg} ${JSON.stringify(obj)} now=${Date.now()}`),
    error: (obj, msg) => console.error(`[uws-server ${process.pid}] error: ${msg} ${JSON.stringify(obj)}`),
  },
  ...(options.nodeId ? { nodeId: options.nodeId } : {}),
});
const http = createHttpServer({
  service: uws.service,
  stage: workDirStager(uws.workDirs, 1 << 20),
  logger: false,
  // Long enough that 10,000 WAITs can all be opened before the first one times out.
  maxWaitSeconds: 600,
});
let requests = 0;
let profiler: Session | null = null;
let cpuFrom = process.cpuUsage();
http.server.on('request', () => {
  requests++;
});
await uws.start();
// Diagnostic: a change announced for a job this node already runs, carrying an older
// version than the one the run started from (a late notification from another path).
raw.watch((change) => {
  const running = uws.scheduler?.runningJobIds().includes(change.jobId);
  if (running && (change.phase === 'QUEUED' || change.phase === 'PENDING')) {
    console.error(
      `[uws-server ${process.pid}] stale change for a running job: ${change.jobId} ${change.kind} ${change.phase} v${change.version}`,
    );
  }
});
const address = await http.listen({ host: '127.0.0.1', port: 0 });

/** Creation times of filled jobs: in the past, 5 ms apart, so that list order is the index order. */
const FILL_T0 = Date.now() - 10_000_000 * 5;

function filled(i: number): NewJob {
  const phase = i % 100 === 0 ? 'ERROR' : i % 10 === 5 ? 'PENDING' : 'COMPLETED';
  return {
    jobId: `fill${i.toString(36).padStart(6, '0')}`,
    jobType: 'noop',
    runId: null,
    ownerId: null,
    phase,
    quote: null,
    creationTime: FILL_T0 + i * 5,
    executionDuration: 600,
    destruction: Date.now() + 30 * 86_400_000,
    parameters: [{ name: 'N', value: String(i) }],
    jobInfo: null,
  };
}

serveCommands(
  { url: address, pid: process.pid },
  {
    /**
     * Adds jobs [from, to) through the store API (not HTTP, not counted): on SQLite in
     * transactions of `batch` creates, on PostgreSQL `concurrency` creates at a time.
     */
    async fill(args) {
      const { from, to, concurrency, batch } = args as {
        from: number;
        to: number;
        concurrency?: number;
        batch?: number;
      };
      const t = performance.now();
      if (storeDb) {
        const size = batch ?? 10_000;
        for (let i = from; i < to; ) {
          storeDb.exec('BEGIN IMMEDIATE');
          try {
            for (const end = Math.min(to, i + size); i < end; i++) await raw.create(filled(i));
            storeDb.exec('COMMIT');
          } catch (err) {
            storeDb.exec('ROLLBACK');
            throw err;
          }
        }
      } else {
        const width = concurrency ?? 1;
        for (let i = from; i < to; ) {
          const group: Promise<unknown>[] = [];
          for (let k = 0; k < width && i < to; k++, i++) group.push(raw.create(filled(i)));
          await Promise.all(group);
        }
      }
      return { seconds: (performance.now() - t) / 1000 };
    },
    memory() {
      global.gc?.();
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed };
    },
    counters() {
      const used = process.cpuUsage(cpuFrom);
      return {
        ...counts,
        byMethod: { ...counts.byMethod },
        requests,
        openWaits: uws.service.openWaits(),
        cpuMs: (used.user + used.system) / 1000,
        sql: Object.fromEntries(sqlStats),
      };
    },
    resetCounters() {
      cpuFrom = process.cpuUsage();
      sqlStats.clear();
      counts.commits = 0;
      counts.reads = 0;
      counts.byMethod = {};
      requests = 0;
      return null;
    },
    /** Starts the V8 CPU profiler (what --cpu-prof uses), leaving start-up out of the profile. */
    async profileStart() {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
      await profiler.post('Profiler.start');
      return null;
    },
    /** Stops the profiler and writes a .cpuprofile file. */
    async profileStop(args) {
      if (!profiler) throw new Error('no profile running');
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(args as string, JSON.stringify(profile));
      profiler.disconnect();
      profiler = null;
      return null;
    },
    /** Aborts each job (a phase change every WAIT on it sees); returns when each change started. */
    async abort(args) {
      const started: number[] = [];
      for (const jobId of args as string[]) {
        started.push(performance.timeOrigin + performance.now());
        await uws.service.abort(jobId, ANONYMOUS, 'noop');
      }
      return started;
    },
  },
  async () => {
    await http.close();
    await uws.stop();
  },
);
