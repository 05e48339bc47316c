/**
 * Store throughput straight into SQLite (no HTTP): creates, gets, list streaming,
 * claim + complete, each with sequential awaits as the service would issue them.
 *
 * Usage: node --import tsx bench/store-create.ts [jobs=20000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteJobStore } from '../src/store/sqlite/store.js';
import type { ClaimRequest, NewJob } from '../src/store/types.js';

const jobs = Number(process.argv[2] ?? 20_000);
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

const claimRequest = (now: number, perOwner: number): ClaimRequest => ({
  nodeId: 'bench',
  now,
  leaseMs: 60_000,
  maxExecuting: 1000,
  maxExecutingPerOwner: perOwner,
  jobTypes: [{ name: 'echo', maxExecuting: 1000 }],
});

async function complete(store: SqliteJobStore, jobId: string): Promise<void> {
  const done = await store.update(
    jobId,
    { phase: 'EXECUTING', leaseNodeId: 'bench' },
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

async function timed(
  label: string,
  count: number,
  fn: () => Promise<void>,
): Promise<[string, number, number]> {
  const start = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return [label, count, seconds];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'uws-bench-'));
  const rows: [string, number, number][] = [];
  try {
    const store = new SqliteJobStore(join(dir, 'jobs.db'));
    await store.init();

    rows.push(
      await timed('create', jobs, async () => {
        for (let i = 0; i < jobs; i++) await store.create(job(i, `owner-${i % 50}`));
      }),
    );
    rows.push(
      await timed('get (random id)', jobs, async () => {
        for (let i = 0; i < jobs; i++) {
          const n = (i * 7919) % jobs;
          if (!(await store.get(`job-${String(n).padStart(8, '0')}`))) throw new Error('missing');
        }
      }),
    );
    let listed = 0;
    rows.push(
      await timed('list (rows streamed)', jobs, async () => {
        for await (const _ of store.list({})) listed += 1;
      }),
    );
    if (listed !== jobs) throw new Error(`listed ${listed} of ${jobs}`);
    rows.push(
      await timed('claim + complete (50 owners)', jobs, async () => {
        for (let i = 0; i < jobs; i++) {
          const claimed = await store.claimNext(claimRequest(Date.now(), 4));
          if (!claimed) throw new Error(`queue empty after ${i}`);
          await complete(store, claimed.jobId);
        }
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
      }),
    );
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`SQLite JobStore, ${jobs} jobs, Node ${process.version}`);
  console.log(
    `${'operation'.padEnd(38)}${'count'.padStart(8)}${'seconds'.padStart(10)}${'per second'.padStart(12)}`,
  );
  for (const [label, count, seconds] of rows) {
    console.log(
      `${label.padEnd(38)}${String(count).padStart(8)}${seconds.toFixed(2).padStart(10)}${Math.round(
        count / seconds,
      )
        .toString()
        .padStart(12)}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
