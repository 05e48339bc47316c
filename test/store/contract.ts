/**
 * The JobStore contract: every store implementation runs this same file, so it
 * speaks only through the interface in src/store/types.ts. Each case gets a fresh,
 * initialised, empty store from `makeStore` and hands it back to `cleanup`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job, JobResult } from '../../src/core/job.js';
import { PHASES, type Phase } from '../../src/core/phases.js';
import type { ClaimRequest, JobChange, JobStore, NewJob } from '../../src/store/types.js';

export type MakeStore = () => Promise<{ store: JobStore; cleanup: () => Promise<void> }>;

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

export function newJob(jobId: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    jobId,
    jobType: 'echo',
    runId: null,
    ownerId: null,
    phase: 'PENDING',
    quote: null,
    creationTime: T0,
    executionDuration: 600,
    destruction: null,
    parameters: [],
    jobInfo: null,
    ...overrides,
  };
}

/** The Job a freshly created NewJob must read back as. */
function asCreated(job: NewJob): Job {
  return {
    ...job,
    startTime: null,
    endTime: null,
    results: [],
    errorSummary: null,
    lease: null,
    version: 1,
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function ids(store: JobStore, filter: Parameters<JobStore['list']>[0]): Promise<string[]> {
  return (await collect(store.list(filter))).map((s) => s.jobId);
}

function claim(overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return {
    nodeId: 'node-1',
    now: T0 + 1_000_000,
    leaseMs: 30_000,
    maxExecuting: 100,
    maxExecutingPerOwner: 100,
    jobTypes: [{ name: 'echo', maxExecuting: 100 }],
    ...overrides,
  };
}

/** Waits (generously) until `check` holds: change notification may be asynchronous in some stores. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function runStoreContract(label: string, makeStore: MakeStore): void {
  const withStore = (fn: (store: JobStore) => Promise<void>) => async () => {
    const { store, cleanup } = await makeStore();
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  };

  describe(`JobStore contract: ${label}`, () => {
    describe('init', () => {
      it(
        'can be called again on an initialised store without losing anything',
        withStore(async (store) => {
          await store.create(newJob('keep-me'));
          await store.init();
          assert.equal((await store.get('keep-me'))?.jobId, 'keep-me');
        }),
      );
    });

    describe('create and get', () => {
      it(
        'round-trips every field, including file parameters and jobInfo',
        withStore(async (store) => {
          const job = newJob('full-1', {
            jobType: 'cutout',
            runId: 'my run ü',
            ownerId: 'alice',
            phase: 'QUEUED',
            quote: T0 + 3_600_000,
            creationTime: T0 + 123,
            executionDuration: 2_147_483_647,
            destruction: T0 + 86_400_000,
            parameters: [
              { name: 'RA', value: '10.5' },
              { name: 'query', value: "SELECT * FROM t WHERE a < 3 AND b = 'x'\n-- ünïcödé 🚀" },
              { name: 'upload', value: 'param:upload', file: { fileName: 'upload-1.vot', size: 1234 } },
              {
                name: 'table',
                value: 'tab.xml',
                file: { fileName: 'upload-2.xml', size: 0, mediaType: 'application/x-votable+xml' },
              },
              { name: 'multi', value: 'a' },
              { name: 'multi', value: 'b' },
              { name: 'empty', value: '' },
              { name: 'big', value: 'x'.repeat(50_000) },
            ],
            jobInfo: { host: 'worker-7', note: 'quotes " and <tags> & ampersands' },
          });
          const created = await store.create(job);
          assert.deepEqual(created, asCreated(job));
          assert.deepEqual(await store.get('full-1'), asCreated(job));
        }),
      );

      it(
        'round-trips nulls and empty parameters',
        withStore(async (store) => {
          const job = newJob('nulls-1', { executionDuration: 0 });
          assert.deepEqual(await store.create(job), asCreated(job));
          assert.deepEqual(await store.get('nulls-1'), asCreated(job));
          assert.equal(await store.getErrorDetail('nulls-1'), null);
        }),
      );

      it(
        'returns null for unknown ids',
        withStore(async (store) => {
          assert.equal(await store.get('no-such-job'), null);
          assert.equal(await store.getErrorDetail('no-such-job'), null);
        }),
      );

      it(
        'refuses a duplicate id with an Error and keeps the original',
        withStore(async (store) => {
          await store.create(newJob('dup-1', { runId: 'first' }));
          await assert.rejects(store.create(newJob('dup-1', { runId: 'second' })), (err: unknown) => {
            assert.ok(err instanceof Error);
            assert.match(err.message, /dup-1/);
            return true;
          });
          const kept = await store.get('dup-1');
          assert.equal(kept?.runId, 'first');
          assert.equal(kept?.version, 1);
        }),
      );
    });

    describe('update (compare-and-set)', () => {
      it(
        'applies every patch field, keeps the others, and adds one to the version',
        withStore(async (store) => {
          const job = newJob('patch-1', { ownerId: 'bob', parameters: [{ name: 'a', value: '1' }] });
          await store.create(job);
          const patch = {
            phase: 'ERROR' as const,
            runId: 'renamed',
            quote: T0 + 5,
            startTime: T0 + 10,
            endTime: T0 + 20,
            executionDuration: 30,
            destruction: T0 + 40,
            parameters: [
              { name: 'b', value: '2', file: { fileName: 'b.dat', size: 7, mediaType: 'text/plain' } },
            ],
            errorSummary: { type: 'transient' as const, message: 'disk full', hasDetail: true },
            errorDetail: 'Traceback:\n  line 1\n  line 2',
            jobInfo: { tries: '3' },
            lease: { nodeId: 'node-9', expiresAt: T0 + 50 },
          };
          const outcome = await store.update('patch-1', {}, patch);
          const { errorDetail: _detail, ...visible } = patch;
          const expected: Job = { ...asCreated(job), ...visible, version: 2 };
          assert.deepEqual(outcome, { ok: true, job: expected });
          assert.deepEqual(await store.get('patch-1'), expected);
          assert.equal(await store.getErrorDetail('patch-1'), 'Traceback:\n  line 1\n  line 2');
          assert.ok(!('errorDetail' in expected));
        }),
      );

      it(
        'sets nullable fields back to null',
        withStore(async (store) => {
          await store.create(
            newJob('null-back', { runId: 'r', quote: 5, destruction: T0, jobInfo: { a: 'b' } }),
          );
          await store.update(
            'null-back',
            {},
            {
              errorSummary: { type: 'fatal', message: 'x', hasDetail: true },
              errorDetail: 'detail',
              lease: { nodeId: 'n', expiresAt: 1 },
              startTime: 1,
              endTime: 2,
            },
          );
          const outcome = await store.update(
            'null-back',
            {},
            {
              runId: null,
              quote: null,
              destruction: null,
              jobInfo: null,
              errorSummary: null,
              errorDetail: null,
              lease: null,
              startTime: null,
              endTime: null,
            },
          );
          assert.ok(outcome.ok);
          assert.deepEqual(outcome.job, { ...asCreated(newJob('null-back')), version: 3 });
          assert.equal(await store.getErrorDetail('null-back'), null);
        }),
      );

      it(
        'counts every successful update in the version',
        withStore(async (store) => {
          await store.create(newJob('ver-1'));
          for (let expected = 2; expected <= 5; expected++) {
            const outcome = await store.update(
              'ver-1',
              { version: expected - 1 },
              { runId: `run ${expected}` },
            );
            assert.ok(outcome.ok);
            assert.equal(outcome.job.version, expected);
          }
        }),
      );

      it(
        'guards on phase: applies when it matches, otherwise reports the job as it is',
        withStore(async (store) => {
          await store.create(newJob('cas-phase'));
          const ok = await store.update('cas-phase', { phase: 'PENDING' }, { phase: 'QUEUED' });
          assert.ok(ok.ok);
          assert.equal(ok.job.phase, 'QUEUED');
          const before = await store.get('cas-phase');
          const failed = await store.update('cas-phase', { phase: 'PENDING' }, { phase: 'ABORTED' });
          assert.deepEqual(failed, { ok: false, current: before });
          assert.deepEqual(await store.get('cas-phase'), before);
        }),
      );

      it(
        'guards on version',
        withStore(async (store) => {
          await store.create(newJob('cas-version'));
          const ok = await store.update('cas-version', { version: 1 }, { runId: 'one' });
          assert.ok(ok.ok);
          const stale = await store.update('cas-version', { version: 1 }, { runId: 'stale' });
          assert.equal(stale.ok, false);
          assert.ok(!stale.ok);
          assert.equal(stale.current?.runId, 'one');
          assert.equal(stale.current?.version, 2);
        }),
      );

      it(
        'guards on the lease holder',
        withStore(async (store) => {
          await store.create(newJob('cas-lease'));
          const noLease = await store.update('cas-lease', { leaseNodeId: 'node-a' }, { runId: 'x' });
          assert.ok(!noLease.ok);
          assert.equal(noLease.current?.lease, null);
          await store.update('cas-lease', {}, { lease: { nodeId: 'node-a', expiresAt: T0 } });
          const other = await store.update('cas-lease', { leaseNodeId: 'node-b' }, { phase: 'COMPLETED' });
          assert.ok(!other.ok);
          assert.deepEqual(other.current?.lease, { nodeId: 'node-a', expiresAt: T0 });
          assert.equal(other.current?.phase, 'PENDING');
          const mine = await store.update('cas-lease', { leaseNodeId: 'node-a' }, { phase: 'COMPLETED' });
          assert.ok(mine.ok);
          assert.equal(mine.job.phase, 'COMPLETED');
        }),
      );

      it(
        'requires every given guard to hold',
        withStore(async (store) => {
          await store.create(newJob('cas-all', { phase: 'EXECUTING' }));
          await store.update('cas-all', {}, { lease: { nodeId: 'n1', expiresAt: T0 } }); // version 2
          const wrongVersion = await store.update(
            'cas-all',
            { phase: 'EXECUTING', version: 1, leaseNodeId: 'n1' },
            { phase: 'COMPLETED' },
          );
          assert.ok(!wrongVersion.ok);
          const wrongPhase = await store.update(
            'cas-all',
            { phase: 'QUEUED', version: 2, leaseNodeId: 'n1' },
            { phase: 'COMPLETED' },
          );
          assert.ok(!wrongPhase.ok);
          const wrongNode = await store.update(
            'cas-all',
            { phase: 'EXECUTING', version: 2, leaseNodeId: 'n2' },
            { phase: 'COMPLETED' },
          );
          assert.ok(!wrongNode.ok);
          assert.equal((await store.get('cas-all'))?.version, 2);
          const all = await store.update(
            'cas-all',
            { phase: 'EXECUTING', version: 2, leaseNodeId: 'n1' },
            { phase: 'COMPLETED' },
          );
          assert.ok(all.ok);
          assert.equal(all.job.version, 3);
        }),
      );

      it(
        'reports current: null for a job that does not exist',
        withStore(async (store) => {
          assert.deepEqual(await store.update('ghost', {}, { runId: 'x' }), { ok: false, current: null });
          assert.deepEqual(await store.update('ghost', { version: 1 }, { runId: 'x' }), {
            ok: false,
            current: null,
          });
        }),
      );

      it(
        'adds results in insertion order, replaces by id in place, and clears',
        withStore(async (store) => {
          await store.create(newJob('res-1'));
          const r1: JobResult = {
            id: 'result',
            mediaType: 'application/x-votable+xml',
            size: 10,
            fileName: 'r.xml',
          };
          const r2: JobResult = {
            id: 'log',
            mediaType: 'text/plain',
            size: null,
            href: 'https://example.org/log',
          };
          const r3: JobResult = {
            id: 'aaa-first-alphabetically',
            mediaType: 'image/png',
            size: 0,
            fileName: 'p.png',
          };
          let outcome = await store.update('res-1', {}, { addResults: [r1, r2] });
          assert.ok(outcome.ok);
          assert.deepEqual(outcome.job.results, [r1, r2]);
          outcome = await store.update('res-1', {}, { addResults: [r3] });
          assert.ok(outcome.ok);
          assert.deepEqual(outcome.job.results, [r1, r2, r3]);

          const r1b: JobResult = {
            id: 'result',
            mediaType: 'text/csv',
            size: 99,
            href: 'https://example.org/r',
          };
          outcome = await store.update('res-1', {}, { addResults: [r1b] });
          assert.ok(outcome.ok);
          assert.deepEqual(outcome.job.results, [r1b, r2, r3], 'replaced in place, no duplicate id');
          assert.deepEqual((await store.get('res-1'))?.results, [r1b, r2, r3]);

          const fresh: JobResult = { id: 'only', mediaType: 'text/plain', size: 1 };
          outcome = await store.update('res-1', {}, { clearResults: true, addResults: [fresh] });
          assert.ok(outcome.ok);
          assert.deepEqual(outcome.job.results, [fresh], 'clearResults drops all before adding');

          outcome = await store.update('res-1', {}, { clearResults: true });
          assert.ok(outcome.ok);
          assert.deepEqual(outcome.job.results, []);
          assert.deepEqual((await store.get('res-1'))?.results, []);
        }),
      );

      it(
        'changes no results when the guard fails',
        withStore(async (store) => {
          await store.create(newJob('res-guard'));
          const failed = await store.update(
            'res-guard',
            { phase: 'COMPLETED' },
            { addResults: [{ id: 'x', mediaType: 'text/plain', size: 1 }] },
          );
          assert.ok(!failed.ok);
          assert.deepEqual(failed.current?.results, []);
          assert.deepEqual((await store.get('res-guard'))?.results, []);
        }),
      );

      it(
        'keeps each job its own results',
        withStore(async (store) => {
          await store.create(newJob('own-a'));
          await store.create(newJob('own-b'));
          await store.update('own-a', {}, { addResults: [{ id: 'r', mediaType: 'text/plain', size: 1 }] });
          await store.update('own-b', {}, { addResults: [{ id: 'r', mediaType: 'text/csv', size: 2 }] });
          assert.deepEqual((await store.get('own-a'))?.results, [
            { id: 'r', mediaType: 'text/plain', size: 1 },
          ]);
          assert.deepEqual((await store.get('own-b'))?.results, [
            { id: 'r', mediaType: 'text/csv', size: 2 },
          ]);
        }),
      );
    });

    describe('delete', () => {
      it(
        'removes the job, its results and its error detail; a second delete reports false',
        withStore(async (store) => {
          await store.create(newJob('del-1'));
          await store.create(newJob('del-2'));
          await store.update(
            'del-1',
            {},
            { addResults: [{ id: 'r', mediaType: 'text/plain', size: 1 }], errorDetail: 'boom' },
          );
          assert.equal(await store.delete('del-1'), true);
          assert.equal(await store.get('del-1'), null);
          assert.equal(await store.getErrorDetail('del-1'), null);
          assert.equal(await store.delete('del-1'), false);
          assert.equal(await store.delete('never-was'), false);
          assert.deepEqual(await ids(store, {}), ['del-2']);
          // The id is free again, and nothing of the old job comes back with it.
          const again = await store.create(newJob('del-1'));
          assert.deepEqual(again, asCreated(newJob('del-1')));
          assert.equal(await store.getErrorDetail('del-1'), null);
        }),
      );
    });

    describe('list', () => {
      async function seed(store: JobStore): Promise<void> {
        const jobs: [string, string | null, Phase, number, string][] = [
          // id, owner, phase, creation offset, type
          ['j01', 'alice', 'PENDING', 1, 'echo'],
          ['j02', 'bob', 'QUEUED', 2, 'echo'],
          ['j03', null, 'EXECUTING', 3, 'cutout'],
          ['j04', 'alice', 'COMPLETED', 4, 'cutout'],
          ['j05', 'alice', 'ARCHIVED', 5, 'echo'],
          ['j06', null, 'ERROR', 6, 'echo'],
          ['j07', 'bob', 'ABORTED', 7, 'cutout'],
          ['j08', 'alice', 'HELD', 8, 'echo'],
          ['j09', null, 'ARCHIVED', 9, 'cutout'],
          ['j10', 'alice', 'QUEUED', 10, 'echo'],
        ];
        for (const [jobId, ownerId, phase, offset, jobType] of jobs) {
          await store.create(newJob(jobId, { ownerId, phase, creationTime: T0 + offset, jobType }));
        }
      }

      it(
        'lists newest first and hides ARCHIVED unless phases are given',
        withStore(async (store) => {
          await seed(store);
          assert.deepEqual(await ids(store, {}), ['j10', 'j08', 'j07', 'j06', 'j04', 'j03', 'j02', 'j01']);
          assert.deepEqual(await ids(store, { phases: ['ARCHIVED'] }), ['j09', 'j05']);
        }),
      );

      it(
        'yields summaries with exactly the summary fields',
        withStore(async (store) => {
          await store.create(
            newJob('sum-1', {
              runId: 'r',
              ownerId: 'o',
              jobType: 'echo',
              parameters: [{ name: 'a', value: 'b' }],
              jobInfo: { k: 'v' },
            }),
          );
          assert.deepEqual(await collect(store.list({})), [
            { jobId: 'sum-1', jobType: 'echo', runId: 'r', ownerId: 'o', phase: 'PENDING', creationTime: T0 },
          ]);
        }),
      );

      it(
        'filters by owner: undefined is anyone, null is only anonymous jobs, a string is that owner',
        withStore(async (store) => {
          await seed(store);
          assert.deepEqual(await ids(store, { ownerId: undefined }), await ids(store, {}));
          assert.deepEqual(await ids(store, { ownerId: null }), ['j06', 'j03']);
          assert.deepEqual(await ids(store, { ownerId: 'alice' }), ['j10', 'j08', 'j04', 'j01']);
          assert.deepEqual(await ids(store, { ownerId: 'carol' }), []);
        }),
      );

      it(
        'filters by job type',
        withStore(async (store) => {
          await seed(store);
          assert.deepEqual(await ids(store, { jobType: 'cutout' }), ['j07', 'j04', 'j03']);
          assert.deepEqual(await ids(store, { jobType: 'cutout', ownerId: null }), ['j03']);
          assert.deepEqual(await ids(store, { jobType: 'cutout', phases: ['ARCHIVED'] }), ['j09']);
        }),
      );

      it(
        'takes the union of the phases given',
        withStore(async (store) => {
          await seed(store);
          assert.deepEqual(await ids(store, { phases: ['QUEUED'] }), ['j10', 'j02']);
          assert.deepEqual(await ids(store, { phases: ['QUEUED', 'EXECUTING', 'ARCHIVED'] }), [
            'j10',
            'j09',
            'j05',
            'j03',
            'j02',
          ]);
          assert.deepEqual(await ids(store, { phases: ['QUEUED', 'ERROR'], ownerId: 'bob' }), ['j02']);
          assert.deepEqual(await ids(store, { phases: [...PHASES] }), [
            'j10',
            'j09',
            'j08',
            'j07',
            'j06',
            'j05',
            'j04',
            'j03',
            'j02',
            'j01',
          ]);
          assert.deepEqual(await ids(store, { phases: [] }), []);
        }),
      );

      it(
        'keeps only jobs created strictly after AFTER',
        withStore(async (store) => {
          await seed(store);
          assert.deepEqual(await ids(store, { after: T0 + 7 }), ['j10', 'j08']);
          assert.deepEqual(await ids(store, { after: T0 + 7, phases: ['ARCHIVED'] }), ['j09']);
          assert.deepEqual(await ids(store, { after: T0 + 10 }), []);
          assert.equal((await ids(store, { after: T0 })).length, 8);
        }),
      );

      it(
        'applies LAST after the other filters: the n most recent, newest first',
        withStore(async (store) => {
          await seed(store);
          assert.deepEqual(await ids(store, { last: 3 }), ['j10', 'j08', 'j07']);
          assert.deepEqual(
            await ids(store, { last: 2, ownerId: 'alice', phases: ['PENDING', 'COMPLETED'] }),
            ['j04', 'j01'],
          );
          assert.deepEqual(await ids(store, { last: 1, ownerId: null }), ['j06']);
          assert.deepEqual(await ids(store, { last: 2, after: T0 + 2, jobType: 'cutout' }), ['j07', 'j04']);
          assert.deepEqual(await ids(store, { last: 100, ownerId: 'bob' }), ['j07', 'j02']);
          assert.deepEqual(await ids(store, { last: 0 }), []);
        }),
      );

      it(
        'orders ties on creationTime by jobId descending, in byte order',
        withStore(async (store) => {
          // Byte order puts 'B' before 'a'; a store must not sort by a locale's collation
          // (PostgreSQL: COLLATE "C"), or keyset paging would disagree with jobId comparison.
          for (const jobId of ['tie-a', 'tie-B', 'tie-c', 'tie-A', 'tie-b']) {
            await store.create(newJob(jobId, { creationTime: T0 + 50 }));
          }
          await store.create(newJob('tie-0-newer', { creationTime: T0 + 51 }));
          await store.create(newJob('tie-z-older', { creationTime: T0 + 49 }));
          assert.deepEqual(await ids(store, {}), [
            'tie-0-newer',
            'tie-c',
            'tie-b',
            'tie-a',
            'tie-B',
            'tie-A',
            'tie-z-older',
          ]);
        }),
      );

      it(
        'pages with BEFORE strictly older in list order, ties included',
        withStore(async (store) => {
          for (const jobId of ['p-a', 'p-b', 'p-c'])
            await store.create(newJob(jobId, { creationTime: T0 + 5 }));
          await store.create(newJob('p-old', { creationTime: T0 + 1 }));
          await store.create(newJob('p-new', { creationTime: T0 + 9 }));
          assert.deepEqual(await ids(store, { before: { creationTime: T0 + 5, jobId: 'p-b' } }), [
            'p-a',
            'p-old',
          ]);
          assert.deepEqual(await ids(store, { before: { creationTime: T0 + 9, jobId: 'p-new' } }), [
            'p-c',
            'p-b',
            'p-a',
            'p-old',
          ]);
          assert.deepEqual(await ids(store, { before: { creationTime: T0 + 5, jobId: 'p-a' }, last: 1 }), [
            'p-old',
          ]);
          assert.deepEqual(await ids(store, { before: { creationTime: T0 + 1, jobId: 'p-old' } }), []);
          // A page boundary may fall on a job that has been deleted since.
          assert.deepEqual(await ids(store, { before: { creationTime: T0 + 5, jobId: 'p-bb-gone' } }), [
            'p-b',
            'p-a',
            'p-old',
          ]);
        }),
      );

      it(
        'streams more than one page, each job exactly once and in order',
        withStore(async (store) => {
          const count = 1200;
          const expected: string[] = [];
          for (let i = 0; i < count; i++) {
            // Groups of three share a creationTime, so page boundaries fall inside ties.
            const jobId = `page-${String(i).padStart(5, '0')}`;
            await store.create(
              newJob(jobId, { creationTime: T0 + Math.floor(i / 3), ownerId: i % 2 ? 'odd' : 'even' }),
            );
            expected.push(jobId);
          }
          expected.reverse();
          const listed = await ids(store, {});
          assert.equal(listed.length, count);
          assert.equal(new Set(listed).size, count);
          assert.deepEqual(listed, expected);
          assert.deepEqual(
            await ids(store, { ownerId: 'odd' }),
            expected.filter((id) => Number(id.slice(5)) % 2 === 1),
          );
          assert.deepEqual(await ids(store, { last: 1100 }), expected.slice(0, 1100));
        }),
      );

      it(
        'does not list jobs created while a long list is being read, nor any job twice',
        withStore(async (store) => {
          for (let i = 0; i < 1100; i++) {
            await store.create(newJob(`live-${String(i).padStart(5, '0')}`, { creationTime: T0 + i }));
          }
          const seen: string[] = [];
          let n = 0;
          for await (const summary of store.list({})) {
            seen.push(summary.jobId);
            n += 1;
            if (n % 300 === 0) await store.create(newJob(`late-${n}`, { creationTime: T0 + 10_000 + n }));
          }
          assert.equal(seen.length, 1100);
          assert.equal(new Set(seen).size, 1100);
          assert.ok(seen.every((id) => id.startsWith('live-')));
        }),
      );

      it(
        'leaves the store usable when a reader stops early',
        withStore(async (store) => {
          for (let i = 0; i < 10; i++) await store.create(newJob(`early-${i}`, { creationTime: T0 + i }));
          for await (const summary of store.list({})) {
            assert.equal(summary.jobId, 'early-9');
            break;
          }
          await store.create(newJob('after-break'));
          assert.equal((await ids(store, {})).length, 11);
        }),
      );
    });

    describe('countByPhase', () => {
      it(
        'has all ten phases as keys, zero when empty',
        withStore(async (store) => {
          const counts = await store.countByPhase();
          assert.deepEqual(Object.keys(counts).sort(), [...PHASES].sort());
          assert.ok(Object.values(counts).every((n) => n === 0));
        }),
      );

      it(
        'counts globally, per owner (null is anonymous) and per job type',
        withStore(async (store) => {
          const rows: [string | null, Phase, string][] = [
            ['alice', 'QUEUED', 'echo'],
            ['alice', 'QUEUED', 'cutout'],
            ['alice', 'EXECUTING', 'echo'],
            ['bob', 'QUEUED', 'echo'],
            ['bob', 'ARCHIVED', 'echo'],
            [null, 'EXECUTING', 'cutout'],
            [null, 'COMPLETED', 'echo'],
          ];
          let i = 0;
          for (const [ownerId, phase, jobType] of rows) {
            await store.create(newJob(`cnt-${i++}`, { ownerId, phase, jobType }));
          }
          const zero = Object.fromEntries(PHASES.map((p) => [p, 0]));
          assert.deepEqual(await store.countByPhase(), {
            ...zero,
            QUEUED: 3,
            EXECUTING: 2,
            ARCHIVED: 1,
            COMPLETED: 1,
          });
          assert.deepEqual(await store.countByPhase({}), await store.countByPhase());
          assert.deepEqual(await store.countByPhase({ ownerId: 'alice' }), {
            ...zero,
            QUEUED: 2,
            EXECUTING: 1,
          });
          assert.deepEqual(await store.countByPhase({ ownerId: null }), {
            ...zero,
            EXECUTING: 1,
            COMPLETED: 1,
          });
          assert.deepEqual(await store.countByPhase({ jobType: 'cutout' }), {
            ...zero,
            QUEUED: 1,
            EXECUTING: 1,
          });
          assert.deepEqual(await store.countByPhase({ ownerId: 'bob', jobType: 'echo' }), {
            ...zero,
            QUEUED: 1,
            ARCHIVED: 1,
          });
          assert.deepEqual(await store.countByPhase({ ownerId: 'nobody' }), zero);
        }),
      );
    });

    describe('claimNext', () => {
      it(
        'returns null when nothing is QUEUED, and claims only QUEUED jobs',
        withStore(async (store) => {
          assert.equal(await store.claimNext(claim()), null);
          const others: Phase[] = [
            'PENDING',
            'HELD',
            'SUSPENDED',
            'UNKNOWN',
            'EXECUTING',
            'COMPLETED',
            'ARCHIVED',
          ];
          for (const phase of others) await store.create(newJob(`not-${phase}`, { phase }));
          assert.equal(await store.claimNext(claim()), null);
          await store.create(newJob('the-queued', { phase: 'QUEUED', creationTime: T0 + 99 }));
          assert.equal((await store.claimNext(claim()))?.jobId, 'the-queued');
          assert.equal(await store.claimNext(claim()), null);
        }),
      );

      it(
        'moves the job to EXECUTING with startTime, a lease for the node and version + 1',
        withStore(async (store) => {
          const job = newJob('claim-me', {
            phase: 'QUEUED',
            ownerId: 'alice',
            parameters: [{ name: 'x', value: 'y' }],
          });
          await store.create(job);
          const request = claim({ nodeId: 'node-7', now: T0 + 5000, leaseMs: 12_000 });
          const claimed = await store.claimNext(request);
          const expected: Job = {
            ...asCreated(job),
            phase: 'EXECUTING',
            startTime: T0 + 5000,
            lease: { nodeId: 'node-7', expiresAt: T0 + 17_000 },
            version: 2,
          };
          assert.deepEqual(claimed, expected);
          assert.deepEqual(await store.get('claim-me'), expected);
        }),
      );

      it(
        'is FIFO by creationTime',
        withStore(async (store) => {
          for (const [jobId, t] of [
            ['fifo-3', 30],
            ['fifo-1', 10],
            ['fifo-2', 20],
          ] as const) {
            await store.create(newJob(jobId, { phase: 'QUEUED', creationTime: T0 + t, ownerId: 'same' }));
          }
          const order: (string | undefined)[] = [];
          for (let i = 0; i < 4; i++) order.push((await store.claimNext(claim()))?.jobId);
          assert.deepEqual(order, ['fifo-1', 'fifo-2', 'fifo-3', undefined]);
        }),
      );

      it(
        'respects the global limit, counting EXECUTING jobs of every type and owner',
        withStore(async (store) => {
          await store.create(
            newJob('run-other-type', { phase: 'EXECUTING', jobType: 'cutout', ownerId: 'x' }),
          );
          for (let i = 0; i < 4; i++) {
            await store.create(
              newJob(`glob-${i}`, { phase: 'QUEUED', creationTime: T0 + i, ownerId: `o${i}` }),
            );
          }
          const request = claim({ maxExecuting: 3 });
          assert.equal((await store.claimNext(request))?.jobId, 'glob-0');
          assert.equal((await store.claimNext(request))?.jobId, 'glob-1');
          assert.equal(await store.claimNext(request), null, 'three EXECUTING: limit reached');
          await store.update('glob-0', {}, { phase: 'COMPLETED', lease: null });
          assert.equal((await store.claimNext(request))?.jobId, 'glob-2');
          assert.equal(await store.claimNext(request), null);
          assert.equal(await store.claimNext(claim({ maxExecuting: 0 })), null);
        }),
      );

      it(
        'respects the per-owner limit, anonymous jobs counting as one owner',
        withStore(async (store) => {
          await store.create(newJob('a-1', { phase: 'QUEUED', ownerId: 'alice', creationTime: T0 + 1 }));
          await store.create(newJob('a-2', { phase: 'QUEUED', ownerId: 'alice', creationTime: T0 + 2 }));
          await store.create(newJob('a-3', { phase: 'QUEUED', ownerId: 'alice', creationTime: T0 + 3 }));
          await store.create(newJob('anon-1', { phase: 'QUEUED', ownerId: null, creationTime: T0 + 4 }));
          await store.create(newJob('anon-2', { phase: 'QUEUED', ownerId: null, creationTime: T0 + 5 }));
          await store.create(newJob('anon-3', { phase: 'QUEUED', ownerId: null, creationTime: T0 + 6 }));
          const request = claim({ maxExecutingPerOwner: 2 });
          const claimed: (string | undefined)[] = [];
          for (let i = 0; i < 5; i++) claimed.push((await store.claimNext(request))?.jobId);
          assert.deepEqual(claimed, ['a-1', 'anon-1', 'a-2', 'anon-2', undefined]);
          await store.update('anon-1', {}, { phase: 'COMPLETED' });
          assert.equal((await store.claimNext(request))?.jobId, 'anon-3');
          assert.equal(await store.claimNext(claim({ maxExecutingPerOwner: 0 })), null);
        }),
      );

      it(
        'respects each job type limit and claims only the types asked for',
        withStore(async (store) => {
          await store.create(newJob('t-cut-1', { phase: 'QUEUED', jobType: 'cutout', creationTime: T0 + 1 }));
          await store.create(newJob('t-cut-2', { phase: 'QUEUED', jobType: 'cutout', creationTime: T0 + 2 }));
          await store.create(
            newJob('t-other', { phase: 'QUEUED', jobType: 'unknown-type', creationTime: T0 + 3 }),
          );
          await store.create(newJob('t-echo-1', { phase: 'QUEUED', jobType: 'echo', creationTime: T0 + 4 }));
          const request = claim({
            jobTypes: [
              { name: 'cutout', maxExecuting: 1 },
              { name: 'echo', maxExecuting: 5 },
            ],
          });
          assert.equal((await store.claimNext(request))?.jobId, 't-cut-1');
          assert.equal(
            (await store.claimNext(request))?.jobId,
            't-echo-1',
            'cutout at its limit, unknown-type skipped',
          );
          assert.equal(await store.claimNext(request), null);
          assert.equal(await store.claimNext(claim({ jobTypes: [] })), null);
          assert.equal((await store.get('t-other'))?.phase, 'QUEUED');
          assert.equal((await store.get('t-cut-2'))?.phase, 'QUEUED');
          // The type limit counts EXECUTING jobs of that type whoever claimed them.
          await store.update('t-cut-1', {}, { phase: 'COMPLETED' });
          assert.equal(
            (await store.claimNext(claim({ jobTypes: [{ name: 'cutout', maxExecuting: 1 }] })))?.jobId,
            't-cut-2',
          );
        }),
      );

      it(
        'goes round robin between owners: the owner with fewest EXECUTING first, then oldest',
        withStore(async (store) => {
          // alice floods the queue first; bob and carol queue later.
          for (let i = 0; i < 4; i++) {
            await store.create(
              newJob(`alice-${i}`, { phase: 'QUEUED', ownerId: 'alice', creationTime: T0 + i }),
            );
          }
          await store.create(newJob('bob-0', { phase: 'QUEUED', ownerId: 'bob', creationTime: T0 + 10 }));
          await store.create(newJob('bob-1', { phase: 'QUEUED', ownerId: 'bob', creationTime: T0 + 11 }));
          await store.create(newJob('carol-0', { phase: 'QUEUED', ownerId: 'carol', creationTime: T0 + 12 }));
          const order: (string | undefined)[] = [];
          for (let i = 0; i < 8; i++) order.push((await store.claimNext(claim()))?.jobId);
          assert.deepEqual(order, [
            'alice-0', // all at 0 running: oldest
            'bob-0', // alice has 1, bob and carol 0: bob's is older
            'carol-0', // carol has 0
            'alice-1', // all have 1: oldest
            'bob-1', // alice 2, bob 1
            'alice-2', // only alice has queued jobs left
            'alice-3',
            undefined,
          ]);
        }),
      );

      it(
        'lets owners queued behind a long flood of a busy owner go first',
        withStore(async (store) => {
          await store.create(newJob('flood-running', { phase: 'EXECUTING', ownerId: 'flooder' }));
          for (let i = 0; i < 300; i++) {
            await store.create(
              newJob(`flood-${i}`, { phase: 'QUEUED', ownerId: 'flooder', creationTime: T0 + i }),
            );
          }
          await store.create(
            newJob('late-bob', { phase: 'QUEUED', ownerId: 'bob', creationTime: T0 + 1000 }),
          );
          await store.create(
            newJob('late-anon', { phase: 'QUEUED', ownerId: null, creationTime: T0 + 1001 }),
          );
          await store.create(
            newJob('late-carol', { phase: 'QUEUED', ownerId: 'carol', creationTime: T0 + 1002 }),
          );
          const order: (string | undefined)[] = [];
          for (let i = 0; i < 5; i++) order.push((await store.claimNext(claim()))?.jobId);
          // Idle owners first, oldest first; then the flooder (1 running) and the others (1 each) tie
          // on one running job, and the flooder's oldest is the oldest; then the flooder has 2.
          assert.deepEqual(order, ['late-bob', 'late-anon', 'late-carol', 'flood-0', 'flood-1']);
        }),
      );

      it(
        'counts an owner jobs EXECUTING of other types in the round robin',
        withStore(async (store) => {
          await store.create(
            newJob('busy-elsewhere', { phase: 'EXECUTING', ownerId: 'alice', jobType: 'cutout' }),
          );
          await store.create(newJob('alice-q', { phase: 'QUEUED', ownerId: 'alice', creationTime: T0 + 1 }));
          await store.create(newJob('bob-q', { phase: 'QUEUED', ownerId: 'bob', creationTime: T0 + 2 }));
          assert.equal((await store.claimNext(claim()))?.jobId, 'bob-q');
          assert.equal(
            await store.claimNext(claim({ maxExecutingPerOwner: 1 })),
            null,
            'alice is at her limit of one through her cutout job',
          );
        }),
      );
    });

    describe('leases', () => {
      it(
        'renewLeases extends own leases, returns the ids no longer held, and leaves the version alone',
        withStore(async (store) => {
          for (const id of ['mine-1', 'mine-2', 'theirs', 'finished']) {
            await store.create(newJob(id, { phase: 'QUEUED', creationTime: T0 + id.length }));
          }
          await store.update(
            'mine-1',
            {},
            { phase: 'EXECUTING', lease: { nodeId: 'me', expiresAt: T0 + 1 } },
          );
          await store.update(
            'mine-2',
            {},
            { phase: 'EXECUTING', lease: { nodeId: 'me', expiresAt: T0 + 1 } },
          );
          await store.update(
            'theirs',
            {},
            { phase: 'EXECUTING', lease: { nodeId: 'them', expiresAt: T0 + 1 } },
          );
          await store.update('finished', {}, { phase: 'ABORTED', lease: null });
          const lost = await store.renewLeases(
            'me',
            ['mine-1', 'theirs', 'mine-2', 'finished', 'deleted'],
            T0 + 99,
          );
          assert.deepEqual([...lost].sort(), ['deleted', 'finished', 'theirs']);
          const mine = await store.get('mine-1');
          assert.deepEqual(mine?.lease, { nodeId: 'me', expiresAt: T0 + 99 });
          assert.equal(mine?.version, 2);
          assert.deepEqual((await store.get('mine-2'))?.lease, { nodeId: 'me', expiresAt: T0 + 99 });
          assert.deepEqual((await store.get('theirs'))?.lease, { nodeId: 'them', expiresAt: T0 + 1 });
          assert.deepEqual(await store.renewLeases('me', [], T0 + 100), []);
        }),
      );

      it(
        'renewLeases reports a lease as lost once the job has left EXECUTING',
        withStore(async (store) => {
          await store.create(newJob('aborted-while-running', { phase: 'QUEUED' }));
          const claimed = await store.claimNext(claim({ nodeId: 'me' }));
          assert.equal(claimed?.jobId, 'aborted-while-running');
          await store.update('aborted-while-running', { phase: 'EXECUTING' }, { phase: 'ABORTED' });
          assert.deepEqual(await store.renewLeases('me', ['aborted-while-running'], T0 + 5), [
            'aborted-while-running',
          ]);
        }),
      );

      it(
        'expiredLeases lists EXECUTING jobs whose lease ended before now, oldest lease first, up to limit',
        withStore(async (store) => {
          const leases: [string, Phase, number][] = [
            ['exp-late', 'EXECUTING', T0 + 30],
            ['exp-early', 'EXECUTING', T0 + 10],
            ['exp-now', 'EXECUTING', T0 + 50],
            ['exp-future', 'EXECUTING', T0 + 60],
            ['exp-done', 'COMPLETED', T0 + 5],
          ];
          for (const [id, phase, expiresAt] of leases) {
            await store.create(newJob(id, { phase }));
            await store.update(id, {}, { lease: { nodeId: 'dead-node', expiresAt } });
          }
          const expired = await store.expiredLeases(T0 + 50, 10);
          assert.deepEqual(
            expired.map((j) => j.jobId),
            ['exp-early', 'exp-late'],
          );
          assert.deepEqual(expired[0], await store.get('exp-early'), 'full jobs');
          assert.deepEqual(
            (await store.expiredLeases(T0 + 50, 1)).map((j) => j.jobId),
            ['exp-early'],
          );
          assert.deepEqual(await store.expiredLeases(T0, 10), []);
        }),
      );
    });

    describe('destruction', () => {
      it(
        'dueForDestruction lists jobs due at or before now, oldest first, ARCHIVED excluded, up to limit',
        withStore(async (store) => {
          const rows: [string, Phase, number | null][] = [
            ['d-late', 'COMPLETED', T0 + 30],
            ['d-early', 'PENDING', T0 + 10],
            ['d-exact', 'EXECUTING', T0 + 50],
            ['d-future', 'QUEUED', T0 + 51],
            ['d-archived', 'ARCHIVED', T0 + 1],
            ['d-never', 'ERROR', null],
          ];
          for (const [id, phase, destruction] of rows) await store.create(newJob(id, { phase, destruction }));
          assert.deepEqual(await store.dueForDestruction(T0 + 50, 10), [
            { jobId: 'd-early', destruction: T0 + 10 },
            { jobId: 'd-late', destruction: T0 + 30 },
            { jobId: 'd-exact', destruction: T0 + 50 },
          ]);
          assert.deepEqual(await store.dueForDestruction(T0 + 50, 2), [
            { jobId: 'd-early', destruction: T0 + 10 },
            { jobId: 'd-late', destruction: T0 + 30 },
          ]);
          assert.deepEqual(await store.dueForDestruction(T0, 10), []);
        }),
      );

      it(
        'nextDestruction is the earliest destruction of any job not ARCHIVED',
        withStore(async (store) => {
          assert.equal(await store.nextDestruction(), null);
          await store.create(newJob('n-never', { destruction: null }));
          assert.equal(await store.nextDestruction(), null);
          await store.create(newJob('n-archived', { phase: 'ARCHIVED', destruction: T0 + 1 }));
          assert.equal(await store.nextDestruction(), null);
          await store.create(newJob('n-later', { destruction: T0 + 20 }));
          await store.create(newJob('n-sooner', { phase: 'COMPLETED', destruction: T0 + 10 }));
          assert.equal(await store.nextDestruction(), T0 + 10);
          await store.update('n-sooner', {}, { phase: 'ARCHIVED' });
          assert.equal(await store.nextDestruction(), T0 + 20);
          await store.update('n-later', {}, { destruction: T0 + 5 });
          assert.equal(await store.nextDestruction(), T0 + 5);
        }),
      );
    });

    describe('allJobIds', () => {
      it(
        'streams every id exactly once, ARCHIVED included, over several pages',
        withStore(async (store) => {
          assert.deepEqual(await collect(store.allJobIds()), []);
          const expected = new Set<string>();
          for (let i = 0; i < 2100; i++) {
            const jobId = `all-${i}`;
            await store.create(
              newJob(jobId, { phase: i % 7 === 0 ? 'ARCHIVED' : 'COMPLETED', ownerId: `o${i % 3}` }),
            );
            expected.add(jobId);
          }
          const listed = await collect(store.allJobIds());
          assert.equal(listed.length, expected.size);
          assert.deepEqual(new Set(listed), expected);
        }),
      );
    });

    describe('watch', () => {
      it(
        'announces created, updated and deleted changes with phase and version, after commit',
        withStore(async (store) => {
          const changes: JobChange[] = [];
          // What a read started from inside the listener finds: the change must already be committed.
          const readBack: (number | null)[] = [];
          const stop = store.watch((change) => {
            changes.push(change);
            void store.get(change.jobId).then((job) => readBack.push(job?.version ?? null));
          });
          const settle = async (events: number) => {
            await eventually(
              () => changes.length >= events && readBack.length >= events,
              `${events} changes`,
            );
          };
          await store.create(newJob('w-1', { phase: 'QUEUED' }));
          await settle(1);
          await store.update('w-1', { version: 1 }, { runId: 'x' });
          await settle(2);
          await store.update('w-1', { version: 1 }, { runId: 'stale' }); // fails: no change
          await store.claimNext(claim());
          await settle(3);
          await store.delete('w-1');
          await settle(4);
          await store.delete('w-1'); // nothing to delete: no change
          await store.update('w-gone', {}, { runId: 'x' }); // no such job: no change
          await new Promise((resolve) => setTimeout(resolve, 50));
          assert.deepEqual(changes, [
            { jobId: 'w-1', phase: 'QUEUED', version: 1, kind: 'created' },
            { jobId: 'w-1', phase: 'QUEUED', version: 2, kind: 'updated' },
            { jobId: 'w-1', phase: 'EXECUTING', version: 3, kind: 'updated' },
            { jobId: 'w-1', phase: null, version: 3, kind: 'deleted' },
          ]);
          assert.deepEqual(readBack, [1, 2, 3, null]);
          stop();
        }),
      );

      it(
        'stops calling a listener once unsubscribed, and serves several listeners',
        withStore(async (store) => {
          const first: string[] = [];
          const second: string[] = [];
          const stopFirst = store.watch((c) => first.push(`${c.kind}:${c.jobId}`));
          const stopSecond = store.watch((c) => second.push(`${c.kind}:${c.jobId}`));
          await store.create(newJob('u-1'));
          await eventually(() => first.length === 1 && second.length === 1, 'both listeners');
          stopFirst();
          await store.create(newJob('u-2'));
          await eventually(() => second.length === 2, 'second listener');
          await new Promise((resolve) => setTimeout(resolve, 50));
          assert.deepEqual(first, ['created:u-1']);
          assert.deepEqual(second, ['created:u-1', 'created:u-2']);
          stopSecond();
          stopSecond(); // twice is harmless
          await store.create(newJob('u-3'));
          await new Promise((resolve) => setTimeout(resolve, 50));
          assert.deepEqual(second, ['created:u-1', 'created:u-2']);
        }),
      );
    });
  });
}
