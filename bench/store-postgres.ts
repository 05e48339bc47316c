/**
 * Store throughput straight into PostgreSQL (no HTTP), like bench/store-create.ts:
 * creates, gets, list streaming, claim + complete with sequential awaits as the
 * service would issue them; then the claim under contention: two store instances
 * (two pools, as two nodes) with several claimers each, all serialised by the claim's
 * advisory lock, with the global limit sampled while they run.
 *
 * Runs in a throwaway database (created and dropped). A queue table needs VACUUM;
 * when the server runs without autovacuum (as the test machine does), the bench
 * vacuums the tables every 2 s in the background, as autovacuum would, unless
 * --no-vacuum is given (then dead rows pile up and claims slow down as they do).
 * Usage: node --import tsx bench/store-postgres.ts [jobs=20000] [--no-vacuum]
 * Server: UWS_TEST_PG_URL (admin URL), default postgres://postgres@127.0.0.1:5432/postgres.
 */
import pg from 'pg';
import { PostgresJobStore } from '../src/store/postgres/store.js';
import type { ClaimRequest, NewJob } from '../src/store/types.js';
import { createTestDatabase, postgresUnavailable } from '../test/helpers/pg.js';

const args = process.argv.slice(2);
const jobs = Number(args.find((a) => !a.startsWith('--')) ?? 20_000);
const noVacuum = args.includes('--no-vacuum');
const T0 = Date.now();

function job(i: number, ownerId: string | null): NewJob {
  return {
    jobId: `job-${String(i).padStart(8, '0')}`,
    jobType: 'echo',
    runId: `run ${i}`,
    ownerId,
    phase: 'QUEUED',
    quote: null,
    creationTime: T0 + i,
    executionDuration: 600,
    destruction: T0 + 86_400_000,
    parameters: [
      { name: 'RA', value: String(10 + i / 1000) },
      { name: 'DEC', value: '-30.5' },
      { name: 'QUERY', value: 'SELECT TOP 100 * FROM ivoa.obscore WHERE s_ra BETWEEN 10 AND 11' },
    ],
    jobInfo: null,
  };
}

const claimRequest = (now: number, perOwner: number, nodeId = 'bench', max = 1000): ClaimRequest => ({
  nodeId,
  now,
  leaseMs: 60_000,
  maxExecuting: max,
  maxExecutingPerOwner: perOwner,
  jobTypes: [{ name: 'echo', maxExecuting: 1000 }],
});

async function complete(store: PostgresJobStore, jobId: string, nodeId = 'bench'): Promise<void> {
  const done = await store.update(
    jobId,
    { phase: 'EXECUTING', leaseNodeId: nodeId },
    {
      phase: 'COMPLETED',
      endTime: Date.now(),
      lease: null,
      addResults: [
        { id: 'result', mediaType: 'application/x-votable+xml', size: 1234, fileName: 'result.xml' },
      ],
    },
  );
  if (!done.ok) throw new Error(`could not complete ${jobId}`);
}

type Row = [string, number, number, string?];
let vacuumNote = '';

async function timed(label: string, count: number, fn: () => Promise<string | undefined>): Promise<Row> {
  const start = process.hrtime.bigint();
  const note = await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return [label, count, seconds, note ?? undefined];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const unavailable = await postgresUnavailable();
  if (unavailable) throw new Error(unavailable);
  const db = await createTestDatabase();
  const rows: Row[] = [];
  try {
    const store = new PostgresJobStore({ connectionString: db.url, log: { warn: () => {} } });
    await store.init();
    const maintenance = new pg.Client({ connectionString: db.url });
    await maintenance.connect();
    const autovacuum = (await maintenance.query('SHOW autovacuum')).rows[0].autovacuum === 'on';
    let vacuums = 0;
    let vacuuming = !autovacuum && !noVacuum;
    const vacuumer = (async () => {
      while (vacuuming) {
        await new Promise((r) => setTimeout(r, 2000));
        if (!vacuuming) break;
        await maintenance.query('VACUUM (ANALYZE) uws.jobs, uws.results');
        vacuums += 1;
      }
    })();
    vacuumNote = autovacuum
      ? 'server autovacuum on'
      : noVacuum
        ? 'server autovacuum off, no VACUUM at all (--no-vacuum)'
        : 'server autovacuum off: the bench VACUUMs every 2 s';

    rows.push(
      await timed('create', jobs, async () => {
        for (let i = 0; i < jobs; i++) await store.create(job(i, `owner-${i % 50}`));
        return undefined;
      }),
    );
    rows.push(
      await timed('get (random id)', jobs, async () => {
        for (let i = 0; i < jobs; i++) {
          const n = (i * 7919) % jobs;
          if (!(await store.get(`job-${String(n).padStart(8, '0')}`))) throw new Error('missing');
        }
        return undefined;
      }),
    );
    let listed = 0;
    rows.push(
      await timed('list (rows streamed)', jobs, async () => {
        for await (const _ of store.list({})) listed += 1;
        return undefined;
      }),
    );
    if (listed !== jobs) throw new Error(`listed ${listed} of ${jobs}`);
    const claimMs: number[] = [];
    rows.push(
      await timed('claim + complete (50 owners)', jobs, async () => {
        for (let i = 0; i < jobs; i++) {
          const t = performance.now();
          const claimed = await store.claimNext(claimRequest(Date.now(), 4));
          claimMs.push(performance.now() - t);
          if (!claimed) throw new Error(`queue empty after ${i}`);
          await complete(store, claimed.jobId);
        }
        claimMs.sort((a, b) => a - b);
        return `claim p50 ${percentile(claimMs, 50).toFixed(2)} ms, p99 ${percentile(claimMs, 99).toFixed(2)} ms`;
      }),
    );

    // One owner floods the queue and keeps 3 jobs running: every claim must look past
    // that owner's queue for idle owners first (the round robin's worst case).
    const flood = Math.min(jobs, 5000);
    for (let i = 0; i < flood; i++) await store.create(job(jobs + i, 'flooder'));
    const running: string[] = [];
    for (let i = 0; i < 3; i++) running.push((await store.claimNext(claimRequest(Date.now(), 4)))!.jobId);
    rows.push(
      await timed('claim + complete (1 owner flooding)', flood - 3, async () => {
        for (let i = 0; i < flood - 3; i++) {
          const claimed = await store.claimNext(claimRequest(Date.now(), 4));
          if (!claimed) throw new Error(`flood queue empty after ${i}`);
          running.push(claimed.jobId);
          await complete(store, running.shift()!);
        }
        return undefined;
      }),
    );
    for (const id of running) await complete(store, id);

    // Contention: two nodes, 4 claimers each, global limit 8, 20 owners, per owner 2.
    const contended = Math.min(jobs, 10_000);
    for (let i = 0; i < contended; i++) await store.create(job(2 * jobs + i, `user-${i % 20}`));
    const nodes = [store, new PostgresJobStore({ connectionString: db.url, log: { warn: () => {} } })];
    await nodes[1]!.init();
    const LIMIT = 8;
    let peak = 0;
    let done = false;
    const lockedClaimMs: number[] = [];
    rows.push(
      await timed(`claim + complete (2 nodes x 4, limit ${LIMIT})`, contended, async () => {
        const sampler = (async () => {
          while (!done) peak = Math.max(peak, (await nodes[1]!.countByPhase()).EXECUTING);
        })();
        const claimer = async (node: PostgresJobStore, nodeId: string) => {
          let empty = 0;
          while (empty < 50) {
            const t = performance.now();
            const claimed = await node.claimNext(claimRequest(Date.now(), 2, nodeId, LIMIT));
            lockedClaimMs.push(performance.now() - t);
            if (!claimed) {
              // A scheduler would wait for a change event; a short pause stands in for it.
              empty += 1;
              await new Promise((r) => setTimeout(r, 2));
              continue;
            }
            empty = 0;
            await complete(node, claimed.jobId, nodeId);
          }
        };
        await Promise.all(
          nodes.flatMap((node, n) => [0, 1, 2, 3].map((i) => claimer(node, `node${n}-${i}`))),
        );
        done = true;
        await sampler;
        const left = await store.countByPhase();
        if (left.QUEUED + left.EXECUTING !== 0) throw new Error(`left behind: ${JSON.stringify(left)}`);
        lockedClaimMs.sort((a, b) => a - b);
        return `peak EXECUTING ${peak}; claim p50 ${percentile(lockedClaimMs, 50).toFixed(2)} ms, p99 ${percentile(
          lockedClaimMs,
          99,
        ).toFixed(2)} ms`;
      }),
    );
    if (peak > LIMIT) throw new Error(`the global limit was exceeded: ${peak} > ${LIMIT}`);

    // Cross-node change latency: node 0 commits a change, node 1's watch() hears it
    // (NOTIFY in the committing transaction, delivered on node 1's LISTEN connection).
    const rounds = 1000;
    await store.create({ ...job(9 * jobs, null), jobId: 'latency-probe', phase: 'PENDING' });
    const heard: number[] = [];
    rows.push(
      await timed('update on node A -> watch() on node B', rounds, async () => {
        for (let i = 0; i < rounds; i++) {
          const t = performance.now();
          const arrived = new Promise<void>((resolve) => {
            const stop = nodes[1]!.watch((change) => {
              if (change.jobId === 'latency-probe' && change.version === i + 2) {
                stop();
                resolve();
              }
            });
          });
          await store.update('latency-probe', { version: i + 1 }, { runId: `round ${i}` });
          await arrived;
          heard.push(performance.now() - t);
        }
        heard.sort((a, b) => a - b);
        return `commit to delivery p50 ${percentile(heard, 50).toFixed(2)} ms, p99 ${percentile(heard, 99).toFixed(2)} ms`;
      }),
    );
    const vacuumed = vacuuming;
    vacuuming = false;
    await vacuumer;
    await maintenance.end();
    if (vacuumed) vacuumNote += ` (${vacuums} runs)`;
    await nodes[1]!.close();
    await store.close();
  } finally {
    await db.drop();
  }

  console.log(`PostgreSQL JobStore, ${jobs} jobs, Node ${process.version}; ${vacuumNote}`);
  console.log(
    `${'operation'.padEnd(44)}${'count'.padStart(8)}${'seconds'.padStart(10)}${'per second'.padStart(12)}`,
  );
  for (const [label, count, seconds, note] of rows) {
    console.log(
      `${label.padEnd(44)}${String(count).padStart(8)}${seconds.toFixed(2).padStart(10)}${Math.round(
        count / seconds,
      )
        .toString()
        .padStart(12)}${note ? `  (${note})` : ''}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
