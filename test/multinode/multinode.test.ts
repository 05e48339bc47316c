/**
 * Several nodes on one PostgreSQL database, as separate processes on loopback:
 * two HTTP-only nodes (test/multinode/fixtures/http-node.ts: the real server of
 * src/app.ts with runJobs false) and two `ivoa-uws worker` processes (the CLI), all
 * on one throwaway database and one shared working directory.
 *
 * The job type is a command that appends `<jobId> start <pid>` and `<jobId> end`
 * to a log file shared by all nodes, so every run is counted outside the store too.
 * Figures (jobs/s, cross-node WAIT latency, time to resolve a killed worker's job)
 * are printed as diagnostics.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { Phase } from '../../src/core/phases.js';
import { PostgresJobStore } from '../../src/store/postgres/store.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../helpers/pg.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

const unavailable = await postgresUnavailable();
if (unavailable !== null && process.env.CI) {
  throw new Error(`PostgreSQL is required on CI but cannot be reached: ${unavailable}`);
}

const MAX_EXECUTING = 6;
const LEASE_SECONDS = 3;
/** The scheduler looks for expired leases this often (its default poll interval). */
const POLL_MS = 2000;
const FINAL: readonly Phase[] = ['COMPLETED', 'ERROR', 'ABORTED'];

interface Node {
  readonly name: string;
  readonly child: ChildProcess;
  readonly output: string[];
  url?: string;
}

function startNode(name: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv): Promise<Node> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, IVOA_UWS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const node: Node = { name, child, output: [] };
  createInterface({ input: child.stderr! }).on('line', (line) => node.output.push(line));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in 60 s:\n${node.output.join('\n')}`)),
      60_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${node.output.join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      node.output.push(line);
      const match = ready.exec(line);
      if (match) {
        clearTimeout(timer);
        if (match[1]) node.url = match[1];
        resolve(node);
      }
    });
  });
}

async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill('SIGTERM');
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Creates a job with PHASE=RUN on an HTTP node; returns its id. */
async function submit(node: Node, seconds: number, type = 'tick'): Promise<string> {
  const response = await fetch(`${node.url}/${type}/async`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `PHASE=RUN&SECONDS=${seconds}`,
    redirect: 'manual',
  });
  const location = response.headers.get('location');
  await response.arrayBuffer();
  assert.equal(response.status, 303, `create on ${node.name}: ${response.status}`);
  return location!.slice(location!.lastIndexOf('/') + 1);
}

async function getJson(url: string): Promise<{ phase: Phase; errorSummary: { message: string } | null }> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  assert.equal(response.status, 200, `GET ${url}: ${response.status}`);
  return (await response.json()) as { phase: Phase; errorSummary: { message: string } | null };
}

/** Every `<jobId> start <pid>` and `<jobId> end` line of the shared log, per job. */
function runsLog(file: string): Map<string, { starts: number; ends: number; pids: number[] }> {
  const runs = new Map<string, { starts: number; ends: number; pids: number[] }>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return runs;
  }
  for (const line of text.split('\n')) {
    const [jobId, what, pid] = line.split(' ');
    if (!jobId || !what) continue;
    const entry = runs.get(jobId) ?? { starts: 0, ends: 0, pids: [] };
    if (what === 'start') {
      entry.starts += 1;
      entry.pids.push(Number(pid));
    } else if (what === 'end') entry.ends += 1;
    runs.set(jobId, entry);
  }
  return runs;
}

async function until<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A `${NAME}` placeholder of a configured command. */
function placeholder(name: string): string {
  return ['$', '{', name, '}'].join('');
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

describe('several nodes on one PostgreSQL database', {
  skip: unavailable === null ? false : `PostgreSQL cannot be reached: ${unavailable}`,
  timeout: 600_000,
}, () => {
  let db: TestDatabase;
  let dir: { dir: string; cleanup: () => void };
  let logFile: string;
  let monitor: PostgresJobStore;
  const http: Node[] = [];
  const workers: Node[] = [];
  /**
   * How often each job entered EXECUTING (from another phase), from the monitor's
   * change feed. A run may change its job while EXECUTING (results written on the
   * way), so versions are not runs; notifications come in commit order.
   */
  const executions = new Map<string, number>();
  const lastPhase = new Map<string, Phase | null>();

  before(async () => {
    db = await createTestDatabase();
    dir = tempDir('multinode');
    logFile = join(dir.dir, 'runs.log');
    const config = {
      store: { url: db.url },
      workDir: join(dir.dir, 'jobs'),
      builtins: false,
      server: { host: '127.0.0.1', port: 0 },
      scheduler: { maxExecuting: MAX_EXECUTING, leaseSeconds: LEASE_SECONDS },
      limits: { jobsPerMinute: 0, maxActiveJobsPerOwner: 0, storageQuotaBytes: 0, maxWaitsPerOwner: 0 },
      jobTypes: [
        {
          name: 'tick',
          parameters: [{ name: 'SECONDS', type: 'number', default: '0.05', min: 0, max: 600 }],
          command: [
            'sh',
            '-c',
            'echo "$1 start $$" >> "$4"; sleep "$2"; echo "$1 end" >> "$4"; echo done > "$3/out.txt"',
            'tick',
            placeholder('JOBID'),
            placeholder('SECONDS'),
            placeholder('OUTDIR'),
            logFile,
          ],
          gracePeriodSeconds: 1,
        },
        {
          name: 'retick',
          parameters: [{ name: 'SECONDS', type: 'number', default: '0.05', min: 0, max: 600 }],
          command: [
            'sh',
            '-c',
            'echo "$1 start $$" >> "$4"; sleep "$2"; echo "$1 end" >> "$4"; echo done > "$3/out.txt"',
            'tick',
            placeholder('JOBID'),
            placeholder('SECONDS'),
            placeholder('OUTDIR'),
            logFile,
          ],
          gracePeriodSeconds: 1,
          restartable: true,
        },
      ],
    };
    const configFile = join(dir.dir, 'uws.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));

    monitor = new PostgresJobStore({ connectionString: db.url, poolSize: 2 });
    await monitor.init(); // creates the schema before the nodes race for it
    monitor.watch((change) => {
      if (change.phase === 'EXECUTING' && lastPhase.get(change.jobId) !== 'EXECUTING') {
        executions.set(change.jobId, (executions.get(change.jobId) ?? 0) + 1);
      }
      lastPhase.set(change.jobId, change.phase);
    });

    const started = await Promise.all([
      startNode('http-1', ['test/multinode/fixtures/http-node.ts', configFile], /^listening (\S+)/, {}),
      startNode('http-2', ['test/multinode/fixtures/http-node.ts', configFile], /^listening (\S+)/, {}),
      startNode('worker-1', ['src/cli/main.ts', 'worker', '--config', configFile], /^ivoa-uws: worker/, {}),
      startNode('worker-2', ['src/cli/main.ts', 'worker', '--config', configFile], /^ivoa-uws: worker/, {}),
    ]);
    http.push(started[0]!, started[1]!);
    workers.push(started[2]!, started[3]!);
  });

  after(async () => {
    await Promise.all([...http, ...workers].map(stopNode));
    // Commands orphaned by the killed worker (they lead their own process groups).
    for (const [, run] of runsLog(logFile)) {
      for (const pid of run.pids) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await monitor?.close();
    await db?.drop();
    dir?.cleanup();
  });

  it('runs 500 jobs each exactly once, never more than the global limit at a time', async () => {
    const total = 500;
    const started = Date.now();
    let peak = 0;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, (await monitor.countByPhase()).EXECUTING);
        samples += 1;
      }
    })();

    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          const i = next++;
          ids.push(await submit(http[i % 2]!, 0.05));
        }
      }),
    );
    const submitted = Date.now();
    await until(
      async () => {
        const counts = await monitor.countByPhase();
        return FINAL.reduce((n, p) => n + counts[p], 0) >= total;
      },
      300_000,
      `${total} jobs to finish`,
    );
    const finished = Date.now();
    sampling = false;
    await sampler;

    const counts = await monitor.countByPhase();
    assert.equal(counts.COMPLETED, total, `all completed: ${JSON.stringify(counts)}`);
    assert.equal(new Set(ids).size, total);
    const runs = runsLog(logFile);
    const wrong = ids.filter((id) => runs.get(id)?.starts !== 1 || runs.get(id)?.ends !== 1);
    assert.deepEqual(wrong, [], 'every job started and ended exactly once (shared run log)');
    const twice = ids.filter((id) => executions.get(id) !== 1);
    assert.deepEqual(twice, [], 'every job entered EXECUTING exactly once (change feed)');
    assert.ok(peak <= MAX_EXECUTING, `EXECUTING peaked at ${peak}, over the limit ${MAX_EXECUTING}`);
    assert.ok(samples > 10, 'the limit was sampled while the jobs ran');

    for (const id of ids) {
      const results = (await monitor.get(id))?.results.map((r) => r.id).sort();
      assert.deepEqual(results, ['log', 'out.txt'], `${id} has its results`);
    }
    const seconds = (finished - started) / 1000;
    process.stdout.write(
      `# multinode: ${total} jobs in ${seconds.toFixed(1)} s = ${(total / seconds).toFixed(1)} jobs/s with 2 workers ` +
        `(submitted over 2 HTTP nodes in ${((submitted - started) / 1000).toFixed(1)} s); ` +
        `peak EXECUTING ${peak} of ${MAX_EXECUTING} over ${samples} samples\n`,
    );
  });

  it('returns a WAIT on one HTTP node when a worker elsewhere completes the job', async () => {
    const latencies: number[] = [];
    /** From creation on one HTTP node to the start on an idle worker: the NOTIFY wake-up. */
    const pickups: number[] = [];
    for (let round = 0; round < 10; round++) {
      const jobId = await submit(http[1]!, 0.3);
      const jobUrl = `${http[0]!.url}/tick/async/${jobId}`;
      let phase: Phase = (await getJson(jobUrl)).phase;
      let answered = 0;
      while (!FINAL.includes(phase)) {
        const before = Date.now();
        const doc = await getJson(`${jobUrl}?WAIT=30&PHASE=${phase}`);
        answered = Date.now();
        assert.ok(answered - before < 25_000, 'WAIT was woken, not timed out');
        phase = doc.phase;
      }
      assert.equal(phase, 'COMPLETED');
      const job = await monitor.get(jobId);
      assert.ok(job?.endTime);
      assert.ok(answered >= job.endTime, 'WAIT answered after the job ended');
      latencies.push(answered - job.endTime);
      pickups.push(job.startTime! - job.creationTime);
    }
    process.stdout.write(
      `# multinode: cross-node WAIT latency (worker's endTime to WAIT answer on the other HTTP node): ` +
        `p50 ${percentile(latencies, 50)} ms, max ${Math.max(...latencies)} ms over ${latencies.length} jobs; idle worker start after creation elsewhere: p50 ${percentile(pickups, 50)} ms, max ${Math.max(...pickups)} ms\n`,
    );
  });

  it('resolves the job of a worker killed with SIGKILL within one lease period, and loses no other job', async () => {
    const longJob = await submit(http[0]!, 60);
    const running = await until(
      async () => {
        const job = await monitor.get(longJob);
        return job?.phase === 'EXECUTING' && job.lease ? job : undefined;
      },
      30_000,
      'the long job to start',
    );
    const victim = workers.find((w) => running.lease!.nodeId.endsWith(`-${w.child.pid}`));
    assert.ok(victim, `a worker holds the lease ${running.lease!.nodeId}`);
    const others: string[] = [];
    // The others are restartable: those the victim held go back to QUEUED and run again.
    for (let i = 0; i < 20; i++) others.push(await submit(http[i % 2]!, 0.2, 'retick'));
    await new Promise((r) => setTimeout(r, 300));
    const killedAt = Date.now();
    const dead = new Promise((resolve) => victim.child.once('exit', resolve));
    victim.child.kill('SIGKILL');
    await dead;
    // A statement the victim sent just before dying (a claim) still commits on the
    // server: give such stragglers a moment before looking at what the victim held.
    await new Promise((r) => setTimeout(r, 1000));
    // Whatever the victim held when it died is lost with it; nothing else may be.
    const heldByVictim = new Set<string>();
    for (const id of [longJob, ...others]) {
      const job = await monitor.get(id);
      if (job?.phase === 'EXECUTING' && job.lease?.nodeId === running.lease!.nodeId) heldByVictim.add(id);
    }

    const resolved = await until(
      async () => {
        const job = await monitor.get(longJob);
        return job && FINAL.includes(job.phase) ? job : undefined;
      },
      60_000,
      'the killed worker’s job to be resolved',
    );
    const resolvedAfter = Date.now() - killedAt;
    assert.equal(resolved.phase, 'ERROR', 'tick is not restartable: ERROR with the reason');
    assert.match(resolved.errorSummary?.message ?? '', /lease expired/);
    // The lease runs out at most one lease period after the kill; the surviving node
    // looks for expired leases every POLL_MS. Generous slack for a loaded machine.
    assert.ok(
      resolvedAfter <= LEASE_SECONDS * 1000 + POLL_MS + 5000,
      `resolved ${resolvedAfter} ms after the kill`,
    );

    await until(
      async () => {
        for (const id of others) {
          const job = await monitor.get(id);
          if (!job || !FINAL.includes(job.phase)) return false;
        }
        return true;
      },
      60_000,
      'the other jobs to finish',
    );
    const runs = runsLog(logFile);
    for (const id of others) {
      const job = await monitor.get(id);
      assert.equal(job?.phase, 'COMPLETED', `${id} was not lost`);
      const expected = heldByVictim.has(id) ? 2 : 1;
      assert.equal(executions.get(id), expected, `${id} entered EXECUTING ${expected} time(s)`);
      // The victim may be killed between claiming a job and the job code's first line: that run never started.
      const starts = runs.get(id)?.starts ?? 0;
      const fewest = heldByVictim.has(id) ? 1 : expected;
      assert.ok(
        starts >= fewest && starts <= expected,
        `${id} started ${starts} time(s), expected ${fewest}-${expected}`,
      );
    }
    process.stdout.write(
      `# multinode: job of the SIGKILLed worker resolved (ERROR) ${resolvedAfter} ms after the kill ` +
        `(lease ${LEASE_SECONDS} s, expiry poll ${POLL_MS} ms); ${others.length} other jobs finished, ` +
        `${others.filter((id) => heldByVictim.has(id)).length} of them (restartable) queued again and rerun\n`,
    );
  });
});
