import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { MIGRATIONS, migrate, schemaVersion } from '../../src/store/sqlite/migrations.js';
import { SqliteJobStore } from '../../src/store/sqlite/store.js';
import { newJob, runStoreContract } from './contract.js';
import { claimAndComplete } from './fixtures/claim-and-complete.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');

runStoreContract('SQLite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uws-store-'));
  const store = new SqliteJobStore(join(dir, 'jobs.db'));
  await store.init();
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite store specifics', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'uws-sqlite-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds everything again after the file is closed and reopened', async () => {
    const file = join(dir, 'reopen', 'nested', 'jobs.db'); // folders are created on init
    const first = new SqliteJobStore(file);
    await first.init();
    await first.create(newJob('r-1', { ownerId: 'alice', phase: 'QUEUED', jobInfo: { a: 'b' } }));
    await first.create(newJob('r-2', { creationTime: 5, parameters: [{ name: 'p', value: 'v' }] }));
    await first.update(
      'r-1',
      { version: 1 },
      {
        addResults: [
          { id: 'b', mediaType: 'text/plain', size: 2, fileName: 'b.txt' },
          { id: 'a', mediaType: 'text/plain', size: 1, href: 'http://example.org/a' },
        ],
        errorDetail: 'the long story',
        errorSummary: { type: 'fatal', message: 'short', hasDetail: true },
      },
    );
    const before1 = await first.get('r-1');
    const before2 = await first.get('r-2');
    await first.close();

    const second = new SqliteJobStore(file);
    await second.init();
    try {
      assert.deepEqual(await second.get('r-1'), before1);
      assert.deepEqual(await second.get('r-2'), before2);
      assert.equal(await second.getErrorDetail('r-1'), 'the long story');
      const listed: string[] = [];
      for await (const s of second.list({})) listed.push(s.jobId);
      assert.deepEqual(listed, ['r-1', 'r-2']);
    } finally {
      await second.close();
    }
  });

  it('applies migrations once: init is idempotent and the version table records each step', async () => {
    const file = join(dir, 'migrate.db');
    for (let i = 0; i < 3; i++) {
      const store = new SqliteJobStore(file);
      await store.init();
      await store.init();
      await store.close();
    }
    const db = new Database(file);
    try {
      const rows = db.prepare('SELECT version FROM schema_version ORDER BY version').all() as {
        version: number;
      }[];
      assert.deepEqual(
        rows.map((r) => r.version),
        MIGRATIONS.map((m) => m.version),
      );
      assert.equal(schemaVersion(db), MIGRATIONS[MIGRATIONS.length - 1]!.version);
      assert.equal(migrate(db), 0, 'nothing left to apply');
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('applies a new migration step on top of an existing file, and only once', async () => {
    const file = join(dir, 'step.db');
    const store = new SqliteJobStore(file);
    await store.init();
    await store.create(newJob('survivor'));
    await store.close();
    const db = new Database(file);
    try {
      const next = MIGRATIONS[MIGRATIONS.length - 1]!.version + 1;
      const extra = [
        ...MIGRATIONS,
        { version: next, description: 'test step', sql: 'CREATE TABLE extra (x)' },
      ];
      assert.equal(migrate(db, extra), 1);
      assert.equal(migrate(db, extra), 0);
      assert.equal(schemaVersion(db), next);
      assert.equal((db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n, 1);
    } finally {
      db.close();
    }
    // This software does not know that step: it must refuse the file rather than guess.
    const newer = new SqliteJobStore(file);
    await assert.rejects(newer.init(), /schema version .* newer than this software/);
  });

  it('rolls back a failing migration step entirely', () => {
    const db = new Database(join(dir, 'rollback.db'));
    try {
      migrate(db);
      const next = MIGRATIONS[MIGRATIONS.length - 1]!.version + 1;
      const broken = [
        ...MIGRATIONS,
        { version: next, description: 'broken', sql: 'CREATE TABLE half (x); SELECT * FROM no_such_table' },
      ];
      assert.throws(() => migrate(db, broken), /no_such_table/);
      assert.equal(schemaVersion(db), next - 1);
      assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'half'").get(), undefined);
    } finally {
      db.close();
    }
  });

  it('refuses calls before init and after close, naming the file', async () => {
    const file = join(dir, 'closed.db');
    const store = new SqliteJobStore(file);
    await assert.rejects(store.get('x'), /not open: call init\(\) first/);
    await store.init();
    await store.close();
    await assert.rejects(store.create(newJob('x')), new RegExp(`${file.replace(/[.\\/]/g, '\\$&')}`));
    await store.close(); // closing twice is harmless
  });

  it('lets two store instances on one file see each other and race safely on compare-and-set', async () => {
    const file = join(dir, 'two-instances.db');
    const a = new SqliteJobStore(file);
    const b = new SqliteJobStore(file);
    await Promise.all([a.init(), b.init()]);
    try {
      await a.create(newJob('shared', { phase: 'QUEUED' }));
      assert.equal((await b.get('shared'))?.phase, 'QUEUED');
      await assert.rejects(b.create(newJob('shared')), /already exists/);
      const fromA = await a.update('shared', { version: 1 }, { runId: 'a' });
      const fromB = await b.update('shared', { version: 1 }, { runId: 'b' });
      assert.ok(fromA.ok);
      assert.ok(!fromB.ok);
      assert.equal(fromB.current?.runId, 'a');
      const claimA = await a.claimNext({
        nodeId: 'a',
        now: 1,
        leaseMs: 1,
        maxExecuting: 9,
        maxExecutingPerOwner: 9,
        jobTypes: [{ name: 'echo', maxExecuting: 9 }],
      });
      const claimB = await b.claimNext({
        nodeId: 'b',
        now: 1,
        leaseMs: 1,
        maxExecuting: 9,
        maxExecutingPerOwner: 9,
        jobTypes: [{ name: 'echo', maxExecuting: 9 }],
      });
      assert.equal(claimA?.jobId, 'shared');
      assert.equal(claimB, null);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps every job exactly once when two processes and this one write the file at once', {
    timeout: 120_000,
  }, async () => {
    const file = join(dir, 'multi-process.db');
    const perWriter = 300;
    const prefixes = ['p1', 'p2'];
    const children = prefixes.map((prefix) =>
      spawn(
        process.execPath,
        ['--import', 'tsx', join(here, 'fixtures', 'writer.ts'), file, prefix, String(perWriter)],
        { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] },
      ),
    );
    const outputs = children.map((child) => readLines(child));
    try {
      // All three processes initialise the fresh file at once: migrations must not collide.
      const parent = new SqliteJobStore(file);
      await parent.init();
      for (const output of outputs) assert.equal(await output.next(), 'ready');
      for (const child of children) child.stdin!.write('go\n');

      const exited = children.map((child) => once(child, 'exit') as Promise<[number | null]>);
      let running = children.length;
      for (const e of exited) void e.then(() => (running -= 1));
      const parentClaims: string[] = [];
      while (running > 0) {
        const got = await claimAndComplete(parent, 'parent');
        if (got) parentClaims.push(got);
        await new Promise((r) => setImmediate(r));
      }
      for (const [code] of await Promise.all(exited)) assert.equal(code, 0, 'writer exit code');
      for (;;) {
        const got = await claimAndComplete(parent, 'parent');
        if (!got) break;
        parentClaims.push(got);
      }

      const reports = await Promise.all(
        outputs.map(
          async (o) =>
            JSON.parse(await o.next()) as { nodeId: string; claimed: string[]; casRetries: number },
        ),
      );
      if (process.env.STORE_TEST_VERBOSE)
        console.log(JSON.stringify({ parent: parentClaims.length, reports }));
      const claimer = new Map<string, string>();
      for (const [node, claimed] of [
        ['parent', parentClaims] as const,
        ...reports.map((r) => [r.nodeId, r.claimed] as const),
      ]) {
        for (const jobId of claimed) {
          assert.ok(!claimer.has(jobId), `${jobId} claimed by ${claimer.get(jobId)} and again by ${node}`);
          claimer.set(jobId, node);
        }
      }
      const expected = prefixes.flatMap((p) =>
        Array.from({ length: perWriter }, (_, i) => `${p}-${String(i).padStart(5, '0')}`),
      );
      assert.equal(claimer.size, expected.length, 'every job claimed exactly once');
      assert.ok(new Set(claimer.values()).size >= 2, 'claims really came from more than one process');

      const stored: string[] = [];
      for await (const id of parent.allJobIds()) stored.push(id);
      assert.deepEqual([...stored].sort(), [...expected].sort());

      for (const jobId of expected) {
        const job = await parent.get(jobId);
        assert.ok(job, jobId);
        assert.equal(job.phase, 'COMPLETED');
        assert.equal(job.version, 4, `${jobId}: create, claim, complete, mark: four versions`);
        assert.deepEqual(job.jobInfo, { touchedBy: jobId.slice(0, 2) });
        assert.deepEqual(job.results, [
          { id: 'claim', mediaType: 'text/plain', size: null, href: `urn:claim:${claimer.get(jobId)}` },
        ]);
        assert.ok(job.startTime !== null && job.endTime !== null && job.startTime <= job.endTime);
      }
      const counts = await parent.countByPhase();
      assert.equal(counts.COMPLETED, expected.length);
      assert.equal(counts.QUEUED + counts.EXECUTING, 0);
      await parent.close();
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill();
    }
  });
});

/** Reads a child's stdout line by line; `next()` fails if the child ends first. */
function readLines(child: ChildProcess): { next(): Promise<string> } {
  const lines = createInterface({ input: child.stdout! });
  const queue: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else queue.push(line);
  });
  let closed = false;
  lines.on('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w(null);
  });
  return {
    next: () =>
      new Promise((resolveLine, reject) => {
        const queued = queue.shift();
        if (queued !== undefined) return resolveLine(queued);
        if (closed) return reject(new Error('writer ended early'));
        waiting.push((line) => (line === null ? reject(new Error('writer ended early')) : resolveLine(line)));
      }),
  };
}
