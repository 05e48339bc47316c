/**
 * `npm run bench`: the figures of issue 8, each with the machine's ceiling it is
 * compared to, on SQLite and (given a URL) PostgreSQL. The server under test runs
 * in a child process (bench/uws-server.ts), so client and server never share an
 * event loop. Writes bench/results/bench-<time>.{json,md} and latest.{json,md}.
 *
 *   npm run bench -- [--quick] [--pg postgres://...] [--profile] [--max-jobs N]
 *
 * --quick     short runs and at most 100k stored jobs (about a minute or two)
 * --pg URL    also measure on PostgreSQL (or set PG_URL); a fresh schema per server, dropped after
 * --profile   instead of the figures: server CPU per step of a job's life, then creations and
 *             end-to-end jobs with commits, SQL statements and the V8 CPU profile (as --cpu-prof, but
 *             started after warm-up) of the server; writes bench/results/profile/
 * --max-jobs  largest stored-job count for the list and memory figures (default 1,000,000)
 * --pg-max-jobs  the same on PostgreSQL (default 100,000; 10,000 with --quick)
 * --experiment NAME  emulate a proposed change in the server under test (claim-gate, group-commit;
 *             see uws-server.ts)
 * --report FILE.json  print the README table of a stored run instead of measuring
 * --no-sqlite  measure PostgreSQL only
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { postgresCommitsPerSecond, sqliteCommitsPerSecond, sqliteRowsPerSecond } from './lib/ceilings.js';
import { type Controlled, startControlled } from './lib/child.js';
import {
  closedLoop,
  countInStream,
  keepAliveAgent,
  type LoadResult,
  request,
  type Target,
  targetOf,
} from './lib/http-client.js';
import { summariseProfile } from './lib/profile.js';
import { median, quantile, wallMs } from './lib/stats.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const RESULTS_DIR = join(BENCH_DIR, 'results');

// ---------------------------------------------------------------- options

interface Options {
  quick: boolean;
  pg: string | undefined;
  profile: boolean;
  maxJobs: number;
  pgMaxJobs: number;
  /** What-if emulations in the server under test (see bench/uws-server.ts). */
  experiments: string[];
  /** Print the README table of a stored results file instead of measuring. */
  report: string | undefined;
  /** Leave SQLite out (to look at PostgreSQL alone). */
  noSqlite: boolean;
}

/**
 * The PostgreSQL store takes one transaction per created job and (at the time of
 * writing) fills at under 1,000 jobs/s here, so its list figures stop at 100k (10k
 * with --quick) unless asked, to keep the run under ten minutes.
 */
function defaultPgMaxJobs(quick: boolean): number {
  return quick ? 10_000 : 100_000;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    quick: false,
    pg: process.env.PG_URL || undefined,
    profile: false,
    maxJobs: 1_000_000,
    pgMaxJobs: 0,
    experiments: [],
    report: undefined,
    noSqlite: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') o.quick = true;
    else if (a === '--profile') o.profile = true;
    else if (a === '--pg') o.pg = argv[++i];
    else if (a.startsWith('--pg=')) o.pg = a.slice(5);
    else if (a === '--max-jobs') o.maxJobs = Number(argv[++i]);
    else if (a === '--pg-max-jobs') o.pgMaxJobs = Number(argv[++i]);
    else if (a === '--experiment') o.experiments.push(argv[++i] ?? '');
    else if (a === '--report') o.report = argv[++i];
    else if (a === '--no-sqlite') o.noSqlite = true;
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: npm run bench -- [--quick] [--pg postgres://...] [--profile] [--max-jobs N] [--pg-max-jobs N]',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (o.quick) o.maxJobs = Math.min(o.maxJobs, 100_000);
  if (o.pgMaxJobs === 0) o.pgMaxJobs = defaultPgMaxJobs(o.quick);
  for (const [name, n] of [
    ['--max-jobs', o.maxJobs],
    ['--pg-max-jobs', o.pgMaxJobs],
  ] as const) {
    if (!Number.isInteger(n) || n < 10_000) throw new Error(`${name} must be an integer >= 10000`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
/** Runs per throughput figure (the figure is their median) and seconds per run. */
const RUNS = 3;
const RUN_SECONDS = opts.quick ? 1 : 3;
const WAIT_SAMPLES = opts.quick ? 60 : 200;
const LIST_SAMPLES = opts.quick ? 20 : 50;
const MANY_WAITS = 10_000;

// ---------------------------------------------------------------- results

type Kind = 'rate' | 'latency' | 'memory';

interface Figure {
  readonly id: string;
  readonly store: string;
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  readonly kind: Kind;
  readonly ceiling?: { readonly name: string; readonly value: number };
  readonly target?: { readonly text: string; readonly met: boolean };
  readonly runs?: readonly number[];
  readonly load: readonly number[];
  readonly note?: string;
}

const figures: Figure[] = [];
const notes: string[] = [];
const started = Date.now();

function load(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}

function record(f: Omit<Figure, 'load'>): void {
  const full = { ...f, load: load() };
  figures.push(full);
  const ratio = full.ceiling ? `  (${ratioText(full)} ${full.ceiling.name})` : '';
  const target = full.target ? `  target ${full.target.text}: ${full.target.met ? 'met' : 'MISSED'}` : '';
  console.log(`  ${f.store.padEnd(10)} ${f.figure}: ${fmt(f.value)} ${f.unit}${ratio}${target}`);
}

function ratioText(f: Figure): string {
  if (!f.ceiling) return '';
  const r = f.value / f.ceiling.value;
  return f.kind === 'rate' ? `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}% of` : `${r.toFixed(1)}×`;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function section(title: string): void {
  console.log(`\n== ${title}  [${((Date.now() - started) / 1000).toFixed(0)} s, load ${load().join(' ')}]`);
}

// ---------------------------------------------------------------- stores and servers

interface StoreUnderTest {
  readonly label: string;
  /** A fresh, empty store URL, and how to throw it away. */
  fresh(): Promise<{ url: string; dispose(): Promise<void> }>;
}

function sqliteStore(): StoreUnderTest {
  return {
    label: 'SQLite',
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'uws-bench-'));
      return {
        url: `sqlite:${join(dir, 'uws.db')}`,
        async dispose() {
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

function postgresStore(url: string): StoreUnderTest {
  return {
    label: 'PostgreSQL',
    async fresh() {
      const schema = `uws_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      const u = new URL(url);
      u.searchParams.set('schema', schema);
      return {
        url: u.toString(),
        async dispose() {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
          await client.end();
        },
      };
    },
  };
}

interface ServerUnderTest {
  readonly control: Controlled;
  readonly target: Target;
  readonly workDir: string;
}

async function startUws(
  storeUrl: string,
  extra: { runJobs?: boolean; nodeId?: string; execArgv?: string[]; sqlStats?: boolean } = {},
): Promise<ServerUnderTest> {
  const workDir = mkdtempSync(join(tmpdir(), 'uws-bench-work-'));
  const control = await startControlled(
    join(BENCH_DIR, 'uws-server.ts'),
    [
      JSON.stringify({
        store: storeUrl,
        workDir,
        maxExecuting: 64,
        ...(extra.runJobs !== undefined ? { runJobs: extra.runJobs } : {}),
        ...(extra.nodeId ? { nodeId: extra.nodeId } : {}),
        ...(extra.sqlStats ? { sqlStats: true } : {}),
        experiments: opts.experiments,
      }),
    ],
    { execArgv: ['--expose-gc', ...(extra.execArgv ?? [])] },
  );
  return { control, target: targetOf(String(control.ready['url'])), workDir };
}

async function stopUws(s: ServerUnderTest): Promise<void> {
  await s.control.stop();
  rmSync(s.workDir, { recursive: true, force: true });
}

interface Counters {
  commits: number;
  reads: number;
  requests: number;
  openWaits: number;
  byMethod: Record<string, number>;
  cpuMs: number;
  sql: Record<string, { calls: number; ms: number }>;
}

// ---------------------------------------------------------------- operations

async function createJob(agent: http.Agent | false, t: Target, body = 'N=1'): Promise<string> {
  const r = await request(agent, t, 'POST', '/noop/async', body);
  if (r.status !== 303 || !r.location) throw new Error(`create: ${r.status} ${r.body.slice(0, 200)}`);
  return new URL(r.location).pathname;
}

const PHASE = /<uws:phase>(\w+)<\/uws:phase>/;

/** Trivial jobs that ended in ERROR or ABORTED (a server fault): reported, not fatal. */
const failedJobs: string[] = [];

/** One trivial job end to end, as a client does it. */
async function jobEndToEnd(agent: http.Agent, t: Target): Promise<void> {
  const path = await createJob(agent, t, 'N=1&PHASE=RUN');
  let phase = 'QUEUED';
  while (phase !== 'COMPLETED') {
    const r = await request(agent, t, 'GET', `${path}?WAIT=30&PHASE=${phase}`);
    const m = PHASE.exec(r.body);
    if (r.status !== 200 || !m) throw new Error(`WAIT: ${r.status} ${r.body.slice(0, 200)}`);
    phase = m[1]!;
    if (phase === 'ERROR' || phase === 'ABORTED') {
      // A trivial job must not fail: counted and shown in the report, with the job document.
      failedJobs.push(`${path} ended ${phase}: ${r.body.replace(/\s+/g, ' ').slice(0, 1500)}`);
      await request(agent, t, 'DELETE', path);
      return;
    }
  }
  const result = await request(agent, t, 'GET', `${path}/results/result`);
  if (result.status !== 200 || result.body !== 'ok\n') throw new Error(`result: ${result.status}`);
  const del = await request(agent, t, 'DELETE', path);
  if (del.status !== 303) throw new Error(`delete: ${del.status}`);
}

async function repeat(runs: number, once: () => Promise<LoadResult>): Promise<LoadResult[]> {
  const out: LoadResult[] = [];
  for (let i = 0; i < runs; i++) out.push(await once());
  return out;
}

const medianRate = (rs: LoadResult[]) => median(rs.map((r) => r.perSecond));

// ---------------------------------------------------------------- ceilings

interface Ceilings {
  httpRate1: number;
  httpRate16: number;
  httpP50: number;
  httpP99: number;
  bareRss: number;
  sqliteCommits: number;
  sqliteRows: number;
  pgCommits16?: number;
}

async function measureCeilings(): Promise<Ceilings> {
  section('ceilings');
  const commits = [0, 1, 2].map(() => sqliteCommitsPerSecond(opts.quick ? 1 : 2));
  const sqliteCommits = median(commits);
  record({
    id: 'ceiling.sqlite-commits',
    store: 'machine',
    figure: 'raw better-sqlite3 commits/s (1 row per transaction, WAL, synchronous=NORMAL)',
    value: sqliteCommits,
    unit: '/s',
    kind: 'rate',
    runs: commits,
  });
  const rows = [0, 1, 2].map(() => sqliteRowsPerSecond(200_000));
  const sqliteRows = median(rows);
  record({
    id: 'ceiling.sqlite-rows',
    store: 'machine',
    figure: 'raw better-sqlite3 rows read/s in index order',
    value: sqliteRows,
    unit: '/s',
    kind: 'rate',
    runs: rows,
  });

  const bare = await startControlled(join(BENCH_DIR, 'bare-server.ts'), [], { execArgv: ['--expose-gc'] });
  try {
    const t = targetOf(String(bare.ready['url']));
    const a1 = keepAliveAgent(1);
    const a16 = keepAliveAgent(16);
    await closedLoop(16, 0.5, async () => void (await request(a16, t, 'POST', '/noop/async', 'N=1')));
    const one = await repeat(RUNS, () =>
      closedLoop(1, RUN_SECONDS, async () => void (await request(a1, t, 'POST', '/noop/async', 'N=1'))),
    );
    const sixteen = await repeat(RUNS, () =>
      closedLoop(16, RUN_SECONDS, async () => void (await request(a16, t, 'POST', '/noop/async', 'N=1'))),
    );
    a1.destroy();
    a16.destroy();
    const lat = one.flatMap((r) => r.latencies);
    const c: Ceilings = {
      httpRate1: medianRate(one),
      httpRate16: medianRate(sixteen),
      httpP50: quantile(lat, 0.5),
      httpP99: quantile(lat, 0.99),
      bareRss: (await bare.call<{ rss: number }>('memory')).rss,
      sqliteCommits,
      sqliteRows,
    };
    record({
      id: 'ceiling.http-1',
      store: 'machine',
      figure: 'bare node:http requests/s, 1 client',
      value: c.httpRate1,
      unit: '/s',
      kind: 'rate',
      runs: one.map((r) => r.perSecond),
    });
    record({
      id: 'ceiling.http-16',
      store: 'machine',
      figure: 'bare node:http requests/s, 16 clients',
      value: c.httpRate16,
      unit: '/s',
      kind: 'rate',
      runs: sixteen.map((r) => r.perSecond),
    });
    record({
      id: 'ceiling.http-p50',
      store: 'machine',
      figure: 'bare node:http round trip p50, 1 client',
      value: c.httpP50,
      unit: 'ms',
      kind: 'latency',
    });
    record({
      id: 'ceiling.http-p99',
      store: 'machine',
      figure: 'bare node:http round trip p99, 1 client',
      value: c.httpP99,
      unit: 'ms',
      kind: 'latency',
    });
    record({
      id: 'ceiling.bare-rss',
      store: 'machine',
      figure: 'bare node:http server RSS',
      value: c.bareRss / 2 ** 20,
      unit: 'MiB',
      kind: 'memory',
    });
    if (opts.pg) {
      try {
        c.pgCommits16 = await postgresCommitsPerSecond(opts.pg, 16, opts.quick ? 1 : 2);
        record({
          id: 'ceiling.pg-commits',
          store: 'machine',
          figure: 'raw PostgreSQL commits/s (1-row INSERT autocommit, 16 connections)',
          value: c.pgCommits16,
          unit: '/s',
          kind: 'rate',
        });
      } catch (err) {
        notes.push(`PostgreSQL ceiling not measured: ${(err as Error).message}`);
      }
    }
    return c;
  } finally {
    await bare.stop();
  }
}

// ---------------------------------------------------------------- throughput and WAIT

async function measureThroughput(store: StoreUnderTest, c: Ceilings): Promise<void> {
  section(`${store.label}: creations, end to end, WAIT`);
  const fresh = await store.fresh();
  const s = await startUws(fresh.url);
  const label = store.label;
  const commitCeiling =
    store.label === 'SQLite'
      ? { name: 'raw commits/s of the same database', value: c.sqliteCommits }
      : c.pgCommits16
        ? { name: 'raw commits/s of the same database', value: c.pgCommits16 }
        : undefined;
  try {
    const t = s.target;
    const a1 = keepAliveAgent(1);
    const a16 = keepAliveAgent(16);
    await closedLoop(16, 0.5, async () => void (await createJob(a16, t))); // warm-up

    const one = await repeat(RUNS, () =>
      closedLoop(1, RUN_SECONDS, async () => void (await createJob(a1, t))),
    );
    record({
      id: 'create-1',
      store: label,
      figure: 'job creations/s over HTTP, 1 client',
      value: medianRate(one),
      unit: '/s',
      kind: 'rate',
      ceiling: { name: 'bare HTTP, 1 client', value: c.httpRate1 },
      runs: one.map((r) => r.perSecond),
    });
    await s.control.call('resetCounters');
    const sixteen = await repeat(RUNS, () =>
      closedLoop(16, RUN_SECONDS, async () => void (await createJob(a16, t))),
    );
    const createCounters = await s.control.call<Counters>('counters');
    const created = sixteen.reduce((a, r) => a + r.ops, 0);
    const create16 = medianRate(sixteen);
    record({
      id: 'create-16',
      store: label,
      figure: 'job creations/s over HTTP, 16 clients',
      value: create16,
      unit: '/s',
      kind: 'rate',
      ceiling: { name: 'bare HTTP, 16 clients', value: c.httpRate16 },
      target: { text: '>= 5,000/s', met: create16 >= 5000 },
      runs: sixteen.map((r) => r.perSecond),
      note: `per creation: ${(createCounters.cpuMs / created).toFixed(3)} ms of server CPU, ${(createCounters.commits / created).toFixed(2)} commits`,
    });
    if (commitCeiling) {
      record({
        id: 'create-16-vs-commits',
        store: label,
        figure: 'job creations/s, 16 clients, against the commit ceiling',
        value: create16,
        unit: '/s',
        kind: 'rate',
        ceiling: commitCeiling,
      });
    }

    // End to end: the counters tell commits, reads and requests per job.
    await closedLoop(16, 0.5, async () => void (await jobEndToEnd(a16, t)));
    const e2e: LoadResult[] = [];
    let perJob = { commits: 0, reads: 0, requests: 0, cpuMs: 0, byMethod: {} as Record<string, number> };
    for (let i = 0; i < RUNS; i++) {
      await s.control.call('resetCounters');
      const r = await closedLoop(16, RUN_SECONDS + 1, async () => void (await jobEndToEnd(a16, t)));
      const k = await s.control.call<Counters>('counters');
      e2e.push(r);
      perJob = {
        commits: k.commits / r.ops,
        reads: k.reads / r.ops,
        requests: k.requests / r.ops,
        cpuMs: k.cpuMs / r.ops,
        byMethod: Object.fromEntries(Object.entries(k.byMethod).map(([m, n]) => [m, n / r.ops])),
      };
    }
    const e2eRate = medianRate(e2e);
    if (failedJobs.length > 0) {
      const messages = [...new Set(failedJobs.map((f) => /<uws:message>([^<]*)</.exec(f)?.[1] ?? '?'))];
      notes.push(
        `${label}: ${failedJobs.length} trivial job(s) ended in ERROR or ABORTED during the end-to-end runs, a server fault (${messages.map((m) => `"${m}"`).join(', ')}); each held its client until the job ended.`,
      );
      console.log(`  ${label.padEnd(10)} FAILED JOBS: ${failedJobs.length}; first: ${failedJobs[0]}`);
      failedJobs.length = 0;
    }
    const tripsPerJob = perJob.requests;
    record({
      id: 'e2e-16',
      store: label,
      figure: 'trivial jobs/s end to end over HTTP, 16 clients (create+RUN, WAIT, result, DELETE)',
      value: e2eRate,
      unit: '/s',
      kind: 'rate',
      ceiling: {
        name: `bare HTTP, 16 clients ÷ ${tripsPerJob.toFixed(2)} round trips`,
        value: c.httpRate16 / tripsPerJob,
      },
      target: { text: '>= 1,000/s', met: e2eRate >= 1000 },
      runs: e2e.map((r) => r.perSecond),
      note: `a job takes ${quantile(
        e2e.flatMap((r) => r.latencies),
        0.5,
      ).toFixed(1)} ms from POST to DELETE answered (p50; p99 ${quantile(
        e2e.flatMap((r) => r.latencies),
        0.99,
      ).toFixed(
        1,
      )} ms); per job: ${perJob.cpuMs.toFixed(2)} ms of server CPU, ${perJob.commits.toFixed(2)} commits, ${perJob.reads.toFixed(2)} store reads, ${tripsPerJob.toFixed(2)} HTTP requests; store calls ${JSON.stringify(
        Object.fromEntries(Object.entries(perJob.byMethod).map(([m, n]) => [m, Math.round(n * 100) / 100])),
      )}`,
    });
    if (commitCeiling) {
      record({
        id: 'e2e-16-vs-commits',
        store: label,
        figure: 'trivial jobs/s end to end, against the commit ceiling',
        value: e2eRate,
        unit: '/s',
        kind: 'rate',
        ceiling: {
          name: `${commitCeiling.name} ÷ ${perJob.commits.toFixed(2)} commits/job`,
          value: commitCeiling.value / perJob.commits,
        },
      });
    }
    console.log(`  ${label.padEnd(10)} ${figures[figures.length - (commitCeiling ? 2 : 1)]?.note}`);

    await measureWait(label, s, s, c, 'one node');
    a1.destroy();
    a16.destroy();

    if (store.label === 'PostgreSQL') {
      const other = await startUws(fresh.url, { runJobs: false, nodeId: 'bench-b' });
      try {
        await measureWait(label, s, other, c, 'across two nodes');
      } finally {
        await stopUws(other);
      }
    }
  } finally {
    await stopUws(s);
    await fresh.dispose();
  }
}

/**
 * WAIT wake-up: a client blocks on a PENDING job at `waiter`; once the server holds
 * the WAIT, `changer` aborts the job. Latency = from the start of the abort call in
 * the server to the end of the WAIT response at the client (one clock: same machine).
 */
async function measureWait(
  label: string,
  changer: ServerUnderTest,
  waiter: ServerUnderTest,
  c: Ceilings,
  where: string,
): Promise<void> {
  const agent = keepAliveAgent(2);
  const samples: number[] = [];
  for (let i = 0; i < WAIT_SAMPLES; i++) {
    const path = await createJob(agent, changer.target);
    const jobId = path.split('/').pop()!;
    let ended = 0;
    const waited = request(agent, waiter.target, 'GET', `${path}?WAIT=30`).then((r) => {
      ended = wallMs();
      return r;
    });
    const deadline = Date.now() + 5000;
    while ((await waiter.control.call<Counters>('counters')).openWaits < 1) {
      if (Date.now() > deadline) throw new Error('the WAIT never registered');
    }
    const [t0] = await changer.control.call<number[]>('abort', [jobId]);
    const r = await waited;
    if (!r.body.includes('<uws:phase>ABORTED</uws:phase>'))
      throw new Error(`WAIT woke with ${r.body.slice(0, 300)}`);
    samples.push(ended - t0!);
  }
  agent.destroy();
  const p50 = quantile(samples, 0.5);
  const p99 = quantile(samples, 0.99);
  const limit = where === 'one node' ? 10 : 20;
  const key = where === 'one node' ? 'wait' : 'wait-2nodes';
  record({
    id: `${key}-p50`,
    store: label,
    figure: `WAIT wake-up after a phase change, ${where}, p50 (${samples.length} samples)`,
    value: p50,
    unit: 'ms',
    kind: 'latency',
    ceiling: { name: 'bare HTTP round trip p50', value: c.httpP50 },
  });
  record({
    id: `${key}-p99`,
    store: label,
    figure: `WAIT wake-up after a phase change, ${where}, p99`,
    value: p99,
    unit: 'ms',
    kind: 'latency',
    ceiling: { name: 'bare HTTP round trip p99', value: c.httpP99 },
    target: { text: `< ${limit} ms`, met: p99 < limit },
  });
}

// ---------------------------------------------------------------- scale: lists and memory

async function measureScale(store: StoreUnderTest, c: Ceilings, maxJobs: number): Promise<void> {
  section(`${store.label}: job lists and memory with many stored jobs`);
  const fresh = await store.fresh();
  const s = await startUws(fresh.url);
  const label = store.label;
  try {
    const t = s.target;
    const agent = keepAliveAgent(1);
    const sizes = [10_000, 100_000, 1_000_000].filter((n) => n <= maxJobs);
    if (!sizes.includes(maxJobs)) sizes.push(maxJobs);
    const mem0 = await s.control.call<{ rss: number; heapUsed: number }>('memory');
    record({
      id: 'rss-0',
      store: label,
      figure: 'server RSS, empty store',
      value: mem0.rss / 2 ** 20,
      unit: 'MiB',
      kind: 'memory',
      ceiling: { name: 'bare node:http RSS', value: c.bareRss / 2 ** 20 },
      note: `V8 heap in use after GC: ${(mem0.heapUsed / 2 ** 20).toFixed(1)} MiB`,
    });
    let have = 0;
    for (const n of sizes) {
      const fill = await s.control.call<{ seconds: number }>('fill', {
        from: have,
        to: n,
        concurrency: 32,
        batch: 10_000,
      });
      console.log(
        `  ${label.padEnd(10)} stored ${fmt(n - have)} more jobs through the store API in ${fill.seconds.toFixed(1)} s (${fmt((n - have) / fill.seconds)}/s)`,
      );
      have = n;
      const size = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
      const mem = await s.control.call<{ rss: number; heapUsed: number }>('memory');
      record({
        id: `rss-${size}`,
        store: label,
        figure: `server RSS with ${size} stored jobs`,
        value: mem.rss / 2 ** 20,
        unit: 'MiB',
        kind: 'memory',
        ceiling: { name: 'bare node:http RSS', value: c.bareRss / 2 ** 20 },
        note: `V8 heap in use after GC: ${(mem.heapUsed / 2 ** 20).toFixed(1)} MiB`,
      });
      for (const [what, query, target] of [
        ['LAST=100', 'LAST=100', n >= 1_000_000 ? 20 : undefined],
        ['PHASE=ERROR&LAST=100 (1% of jobs in ERROR)', 'PHASE=ERROR&LAST=100', undefined],
      ] as const) {
        const lat: number[] = [];
        for (let i = 0; i < LIST_SAMPLES + 3; i++) {
          const t0 = performance.now();
          const r = await request(agent, t, 'GET', `/noop/async?${query}`);
          const ms = performance.now() - t0;
          const count = r.body.split('<uws:jobref ').length - 1;
          if (r.status !== 200 || count !== 100) throw new Error(`list ${query}: ${r.status}, ${count} jobs`);
          if (i >= 3) lat.push(ms); // the first few warm the statement cache
        }
        const p50 = quantile(lat, 0.5);
        const p99 = quantile(lat, 0.99);
        record({
          id: `list-${query}-${size}-p50`,
          store: label,
          figure: `job list ${what}, ${size} stored, p50`,
          value: p50,
          unit: 'ms',
          kind: 'latency',
          ceiling: { name: 'bare HTTP round trip p50', value: c.httpP50 },
        });
        record({
          id: `list-${query}-${size}-p99`,
          store: label,
          figure: `job list ${what}, ${size} stored, p99`,
          value: p99,
          unit: 'ms',
          kind: 'latency',
          ceiling: { name: 'bare HTTP round trip p99', value: c.httpP99 },
          ...(target !== undefined ? { target: { text: `< ${target} ms`, met: p99 < target } } : {}),
        });
      }
      const streams: number[] = [];
      const streamRuns = n >= 1_000_000 ? 2 : RUNS;
      for (let i = 0; i < streamRuns; i++) {
        const t0 = performance.now();
        const r = await countInStream(agent, t, '/noop/async', '</uws:jobref>');
        const sec = (performance.now() - t0) / 1000;
        if (r.status !== 200 || r.count !== n)
          throw new Error(`whole list: ${r.status}, ${r.count} of ${n} jobs`);
        streams.push(n / sec);
      }
      record({
        id: `list-all-${size}`,
        store: label,
        figure: `whole job list streamed, ${size} stored`,
        value: median(streams),
        unit: 'jobs/s',
        kind: 'rate',
        ...(store.label === 'SQLite'
          ? { ceiling: { name: 'raw SQLite rows read/s', value: c.sqliteRows } }
          : {}),
        runs: streams,
      });
    }
    agent.destroy();
    await manyWaits(label, s, c);
  } finally {
    await stopUws(s);
    await fresh.dispose();
  }
}

/** Waits until the server holds `n` WAITs; fails if any ended early (the server's WAIT cap) or after two minutes. */
async function waitsOpen(s: ServerUnderTest, n: number, endedSoFar: () => number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const open = (await s.control.call<Counters>('counters')).openWaits;
    if (open >= n) return;
    if (endedSoFar() > 0) throw new Error(`${endedSoFar()} WAITs ended before all were open`);
    if (Date.now() > deadline) throw new Error(`only ${open} of ${n} WAITs open after two minutes`);
    await sleep(10);
  }
}

/** RSS with MANY_WAITS blocking WAITs open (100 jobs, 100 WAITs each), and how long waking them all takes. */
async function manyWaits(label: string, s: ServerUnderTest, c: Ceilings): Promise<void> {
  const agent = keepAliveAgent(4);
  const jobs: string[] = [];
  for (let i = 0; i < 100; i++) jobs.push(await createJob(agent, s.target));
  agent.destroy();
  const before = await s.control.call<{ rss: number }>('memory');
  let ended = 0;
  let lastEnd = 0;
  const responses: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < MANY_WAITS; i++) {
    const path = jobs[i % jobs.length]!;
    responses.push(
      request(false, s.target, 'GET', `${path}?WAIT=600`).then((r) => {
        if (r.status !== 200) throw new Error(`WAIT ${r.status}`);
        ended++;
        lastEnd = wallMs();
      }),
    );
    // Open connections in steps, so the listen backlog never overflows.
    if (i % 200 === 199) await waitsOpen(s, i + 1 - 200, () => ended);
  }
  await waitsOpen(s, MANY_WAITS, () => ended);
  const openSeconds = (performance.now() - t0) / 1000;
  const during = await s.control.call<{ rss: number }>('memory');
  const ids = jobs.map((p) => p.split('/').pop()!);
  const starts = await s.control.call<number[]>('abort', ids);
  await Promise.all(responses);
  const wakeAll = lastEnd - starts[0]!;
  if (ended !== MANY_WAITS) throw new Error(`${ended} WAITs ended`);
  record({
    id: 'rss-waits',
    store: label,
    figure: `server RSS with ${MANY_WAITS.toLocaleString('en-US')} WAITs open (plus the stored jobs)`,
    value: during.rss / 2 ** 20,
    unit: 'MiB',
    kind: 'memory',
    ceiling: { name: 'bare node:http RSS', value: c.bareRss / 2 ** 20 },
    note: `${((during.rss - before.rss) / MANY_WAITS / 1024).toFixed(1)} KiB more per open WAIT; opened in ${openSeconds.toFixed(1)} s`,
  });
  record({
    id: 'wake-all',
    store: label,
    figure: `time to answer all ${MANY_WAITS.toLocaleString('en-US')} WAITs after their 100 jobs change`,
    value: wakeAll,
    unit: 'ms',
    kind: 'latency',
  });
}

// ---------------------------------------------------------------- profile

/** One closed-loop workload under the profiler, with per-operation CPU, store calls and SQL. */
async function profiled(
  s: ServerUnderTest,
  label: string,
  file: string,
  op: (agent: http.Agent) => Promise<void>,
): Promise<void> {
  const agent = keepAliveAgent(16);
  await closedLoop(16, 1, () => op(agent)); // warm-up
  await s.control.call('resetCounters');
  await s.control.call('profileStart');
  const r = await closedLoop(16, opts.quick ? 3 : 8, () => op(agent));
  await s.control.call('profileStop', file);
  const k = await s.control.call<Counters>('counters');
  agent.destroy();
  const per = (n: number) => (n / r.ops).toFixed(2);
  console.log(
    `  ${label}: ${r.ops} in ${r.seconds.toFixed(1)} s = ${r.perSecond.toFixed(0)}/s; server CPU ${per(k.cpuMs)} ms each (${((k.cpuMs / 1000 / r.seconds) * 100).toFixed(0)}% of one core), load ${load().join(' ')}`,
  );
  console.log(
    `  each: ${per(k.commits)} commits, ${per(k.reads)} store reads, ${per(k.requests)} HTTP requests; store calls ${JSON.stringify(
      Object.fromEntries(
        Object.entries(k.byMethod).map(([m, n]) => [m, Math.round((n / r.ops) * 100) / 100]),
      ),
    )}`,
  );
  const sql = Object.entries(k.sql).sort((a, b) => b[1].ms - a[1].ms);
  if (sql.length > 0) {
    const calls = sql.reduce((a, [, v]) => a + v.calls, 0);
    const ms = sql.reduce((a, [, v]) => a + v.ms, 0);
    console.log(
      `  SQL: ${per(calls)} statements each, ${((ms / r.ops) * 1000).toFixed(0)} µs each inside better-sqlite3 (${((ms / k.cpuMs) * 100).toFixed(0)}% of server CPU); by statement:`,
    );
    for (const [text, v] of sql.slice(0, 20)) {
      console.log(
        `    ${per(v.calls).padStart(6)} ${((v.ms / r.ops) * 1000).toFixed(0).padStart(5)} µs  ${text.slice(0, 140)}`,
      );
    }
  }
  const summary = summariseProfile(file);
  writeFileSync(file.replace(/\.cpuprofile$/, '.txt'), summary);
  console.log(summary);
}

/**
 * Server CPU per step of a job's life, each step measured alone over HTTP with 16
 * clients: what the end-to-end figure is made of.
 */
async function breakdown(store: StoreUnderTest): Promise<void> {
  section(`${store.label}: server CPU per step of a job's life`);
  const fresh = await store.fresh();
  const s = await startUws(fresh.url);
  const t = s.target;
  const agent = keepAliveAgent(16);
  const rows: string[] = [];
  async function step(name: string, ids: string[], op: (id: string) => Promise<void>): Promise<void> {
    await s.control.call('resetCounters');
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < ids.length) await op(ids[next++]!);
      }),
    );
    const sec = (performance.now() - t0) / 1000;
    const k = await s.control.call<Counters>('counters');
    const line = `${name.padEnd(58)} ${(k.cpuMs / ids.length).toFixed(3).padStart(7)} ms CPU  ${(ids.length / sec).toFixed(0).padStart(6)}/s  ${(k.commits / ids.length).toFixed(2)} commits ${(k.reads / ids.length).toFixed(2)} reads`;
    rows.push(line);
    console.log(`  ${line}`);
  }
  try {
    const n = opts.quick ? 1000 : 3000;
    const slots = Array.from({ length: n }, (_, i) => String(i));
    const pending: string[] = [];
    await step('POST create (PENDING)', slots, async () => {
      pending.push(await createJob(agent, t));
    });
    await step('GET job document', pending, async (p) => {
      const r = await request(agent, t, 'GET', p);
      if (r.status !== 200) throw new Error(`GET ${r.status}`);
    });
    await step('POST phase=RUN, then the scheduler runs it (no client waits)', pending, async (p) => {
      const r = await request(agent, t, 'POST', `${p}/phase`, 'PHASE=RUN');
      if (r.status !== 303) throw new Error(`RUN ${r.status}`);
    });
    // The runs go on after the last RUN answered: wait for them, and count their CPU too.
    const before = await s.control.call<Counters>('counters');
    for (;;) {
      const r = await request(agent, t, 'GET', '/noop/async?PHASE=QUEUED&PHASE=EXECUTING&LAST=1');
      if (!r.body.includes('<uws:jobref ')) break;
      await sleep(20);
    }
    const after = await s.control.call<Counters>('counters');
    const tail = `  (+ ${((after.cpuMs - before.cpuMs) / n).toFixed(3)} ms CPU per job for runs still going after the last RUN answered)`;
    rows.push(tail);
    console.log(tail);
    await step('GET ?WAIT=30 on a COMPLETED job (answers at once)', pending, async (p) => {
      const r = await request(agent, t, 'GET', `${p}?WAIT=30`);
      if (!r.body.includes('COMPLETED')) throw new Error(`not completed: ${r.body.slice(0, 200)}`);
    });
    await step('GET results/result (a 3-byte file)', pending, async (p) => {
      const r = await request(agent, t, 'GET', `${p}/results/result`);
      if (r.status !== 200) throw new Error(`result ${r.status}`);
    });
    await step('DELETE a COMPLETED job (row and directory)', pending, async (p) => {
      const r = await request(agent, t, 'DELETE', p);
      if (r.status !== 303) throw new Error(`DELETE ${r.status}`);
    });
    await step('GET a job that does not exist (404: routing, error path)', slots, async (i) => {
      await request(agent, t, 'GET', `/noop/async/nosuchjob${i}`);
    });
  } finally {
    agent.destroy();
    await stopUws(s);
    await fresh.dispose();
  }
  writeFileSync(join(RESULTS_DIR, `breakdown-${store.label.toLowerCase()}.txt`), `${rows.join('\n')}\n`);
}

async function profileServer(store: StoreUnderTest): Promise<void> {
  const dir = join(RESULTS_DIR, 'profile');
  mkdirSync(dir, { recursive: true });
  const name = store.label.toLowerCase();
  const fresh = await store.fresh();
  const s = await startUws(fresh.url, { sqlStats: store.label === 'SQLite' });
  try {
    section(`${store.label}: job creations (16 clients), server under the V8 CPU profiler`);
    await profiled(s, 'creations', join(dir, `create-${name}.cpuprofile`), async (agent) => {
      await createJob(agent, s.target);
    });
    section(`${store.label}: trivial jobs end to end (16 clients), server under the V8 CPU profiler`);
    await profiled(s, 'jobs', join(dir, `e2e-${name}.cpuprofile`), (agent) => jobEndToEnd(agent, s.target));
  } finally {
    await stopUws(s);
    await fresh.dispose();
  }
}

// ---------------------------------------------------------------- report

function commandLine(): string {
  const args = [
    ...(opts.quick ? ['--quick'] : []),
    ...(opts.pg ? ['--pg', 'postgres://…'] : []),
    ...(opts.maxJobs !== (opts.quick ? 100_000 : 1_000_000) ? ['--max-jobs', String(opts.maxJobs)] : []),
    ...(opts.pgMaxJobs !== defaultPgMaxJobs(opts.quick) ? ['--pg-max-jobs', String(opts.pgMaxJobs)] : []),
    ...opts.experiments.flatMap((e) => ['--experiment', e]),
  ];
  return `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

function markdown(): string {
  const lines = [
    `Measured ${new Date(started).toISOString()} with \`${commandLine()}\``,
    `on ${process.platform}/${process.arch}, Node ${process.version}, ${(
      (Date.now() - started) / 1000
    ).toFixed(0)} s in all. Throughputs are medians of ${RUNS} runs; ratios compare each figure with the`,
    'ceiling measured in the same run (rates: share of the ceiling; latencies and memory: multiples of it).',
    '',
    '| Store | Figure | Value | Ceiling | Ratio | Target | Load (1 min) |',
    '| --- | --- | ---: | --- | ---: | --- | ---: |',
  ];
  for (const f of figures) {
    const ceiling = f.ceiling ? `${f.ceiling.name}: ${fmt(f.ceiling.value)}` : '';
    const target = f.target ? `${f.target.text} ${f.target.met ? '✓' : '✗'}` : '';
    lines.push(
      `| ${f.store} | ${f.figure} | ${fmt(f.value)} ${f.unit} | ${ceiling} | ${ratioText(f)} | ${target} | ${f.load[0]} |`,
    );
  }
  const withNotes = figures.filter((f) => f.note);
  if (withNotes.length || notes.length) lines.push('');
  for (const f of withNotes) lines.push(`- ${f.store}, ${f.figure}: ${f.note}`);
  for (const n of notes) lines.push(`- ${n}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The README's table: one row per figure, stores side by side, each value with
 * its ratio to the ceiling named in the row.
 */
function readmeTable(): string {
  const stores = [...new Set(figures.map((f) => f.store).filter((st) => st !== 'machine'))];
  const rows = new Map<string, Figure[]>();
  for (const f of figures) {
    if (f.store === 'machine') continue;
    const key = f.figure;
    rows.set(key, [...(rows.get(key) ?? []), f]);
  }
  const lines = [
    `| Figure | ${stores.join(' | ')} | Compared with | Target |`,
    `| --- | ${stores.map(() => '---:').join(' | ')} | --- | --- |`,
  ];
  for (const [figure, fs] of rows) {
    const cells = stores.map((st) => {
      const f = fs.find((x) => x.store === st);
      if (!f) return '–';
      const ratio = f.ceiling ? ` (${ratioText(f).replace(' of', '')})` : '';
      const mark = f.target ? (f.target.met ? ' ✓' : ' ✗') : '';
      return `${fmt(f.value)} ${f.unit}${ratio}${mark}`;
    });
    const first = fs[0]!;
    const ceiling = first.ceiling
      ? first.ceiling.name
          .replace(/ ÷ [\d.]+ round trips/, ' ÷ round trips per job')
          .replace(/ ÷ [\d.]+ commits\/job/, ' ÷ commits per job')
      : '';
    lines.push(`| ${figure} | ${cells.join(' | ')} | ${ceiling} | ${first.target?.text ?? ''} |`);
  }
  const loads = figures.map((f) => f.load[0] ?? 0);
  lines.push(
    '',
    `1-minute load average while measuring: ${Math.min(...loads)} to ${Math.max(...loads)} (2 cores; ${Math.max(...loads) > 2 ? 'other work shared the machine, so absolute figures are noisy' : 'the machine was otherwise quiet'}).`,
  );
  const ceilings = figures.filter((f) => f.store === 'machine');
  lines.push('', '| Ceiling (same run) | Value |', '| --- | ---: |');
  for (const f of ceilings) lines.push(`| ${f.figure} | ${fmt(f.value)} ${f.unit} |`);
  const withNotes = figures.filter((f) => f.note && f.store !== 'machine' && !f.note.startsWith('V8 heap'));
  if (withNotes.length || notes.length) lines.push('');
  for (const f of withNotes) lines.push(`- ${f.store}, ${f.figure}: ${f.note}`);
  for (const n of notes) lines.push(`- ${n}`);
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (opts.report) {
    const stored = JSON.parse(readFileSync(opts.report, 'utf8')) as { figures: Figure[]; notes?: string[] };
    figures.push(...stored.figures);
    notes.push(...(stored.notes ?? []));
    process.stdout.write(readmeTable());
    return;
  }
  const stores: StoreUnderTest[] = opts.noSqlite ? [] : [sqliteStore()];
  if (opts.pg) {
    try {
      const probe = await postgresStore(opts.pg).fresh();
      const { openStore } = await import('../src/store/index.js');
      const st = await openStore(probe.url);
      await st.close();
      await probe.dispose();
      stores.push(postgresStore(opts.pg));
    } catch (err) {
      notes.push(
        `PostgreSQL skipped: openStore(${opts.pg.replace(/:[^:@/]*@/, ':***@')}) failed: ${(err as Error).message}`,
      );
      console.log(`PostgreSQL skipped: ${(err as Error).message}`);
    }
  }
  if (opts.experiments.length > 0) {
    notes.push(
      `Experiments emulated in the server under test: ${opts.experiments.join(', ')} (bench/uws-server.ts).`,
    );
  }
  if (opts.profile) {
    for (const store of stores) {
      await breakdown(store);
      await profileServer(store);
    }
    return;
  }
  const c = await measureCeilings();
  for (const store of stores) await measureThroughput(store, c);
  for (const store of stores) {
    const max = store.label === 'PostgreSQL' ? opts.pgMaxJobs : opts.maxJobs;
    if (store.label === 'PostgreSQL' && max < opts.maxJobs) {
      notes.push(
        `PostgreSQL list and memory figures stop at ${fmt(max)} stored jobs: its store creates one job per transaction (no batch API) at 1,000-2,500 jobs/s here, too slow to fill a million within a ten-minute run (--pg-max-jobs raises it).`,
      );
    }
    await measureScale(store, c, max);
  }
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify(
    { started: new Date(started).toISOString(), options: { ...opts, pg: Boolean(opts.pg) }, figures, notes },
    null,
    2,
  );
  const md = markdown();
  for (const name of [`bench-${stamp}`, 'latest']) {
    writeFileSync(join(RESULTS_DIR, `${name}.json`), json);
    writeFileSync(join(RESULTS_DIR, `${name}.md`), md);
  }
  writeFileSync(join(RESULTS_DIR, 'latest-readme.md'), readmeTable());
  console.log(`\n${md}`);
  console.log(
    `wrote ${join(RESULTS_DIR, `bench-${stamp}.{json,md}`)} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

await main();
