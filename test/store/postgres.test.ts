/**
 * The PostgreSQL JobStore on a real server: the shared contract suite, then what only
 * a shared database has (several nodes claiming at once, NOTIFY between instances,
 * losing the LISTEN connection). One throwaway database per run, one schema per case.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { BadRequestError } from '../../src/core/errors.js';
import type { Phase } from '../../src/core/phases.js';
import { SqliteJobStore, storeFromUrl } from '../../src/store/index.js';
import { PostgresJobStore, type PostgresStoreOptions, parsePayload } from '../../src/store/postgres/index.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import type { ClaimRequest, JobChange } from '../../src/store/types.js';
import { admin, createTestDatabase, postgresUnavailable, type TestDatabase } from '../helpers/pg.js';
import { eventually } from '../helpers/tmp.js';
import { newJob, runStoreContract } from './contract.js';

const unavailable = await postgresUnavailable();
if (unavailable !== null && process.env.CI) {
  throw new Error(`PostgreSQL is required on CI but cannot be reached: ${unavailable}`);
}
const skip = unavailable === null ? false : `PostgreSQL cannot be reached: ${unavailable}`;

let database: TestDatabase | undefined;
let databaseReady: Promise<TestDatabase> | undefined;
function testDatabase(): Promise<TestDatabase> {
  databaseReady ??= createTestDatabase().then((db) => {
    database = db;
    return db;
  });
  return databaseReady;
}
after(async () => {
  await database?.drop();
});

let schemas = 0;
/** A store on a schema of its own in the run's database. */
async function openStore(
  schema = `uws_t${process.pid}_${schemas++}`,
  options: Partial<PostgresStoreOptions> = {},
): Promise<PostgresJobStore> {
  const db = await testDatabase();
  const store = new PostgresJobStore({ connectionString: db.url, schema, poolSize: 4, ...options });
  await store.init();
  return store;
}

async function dropSchema(schema: string): Promise<void> {
  const db = await testDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const db = await testDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const T0 = 1_767_225_600_000;

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

if (skip) {
  describe('PostgreSQL job store', { skip }, () => {
    it('needs a reachable PostgreSQL', () => {});
  });
} else {
  runStoreContract('PostgreSQL', async () => {
    const store = await openStore();
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropSchema(store.schema);
      },
    };
  });

  describe('PostgreSQL store specifics', () => {
    before(async () => {
      await testDatabase();
    });

    it('migrates once when several nodes start at the same moment', async () => {
      const schema = `uws_mig_${process.pid}`;
      const stores = await Promise.all(Array.from({ length: 5 }, () => openStore(schema)));
      try {
        const versions = await sql<{ version: number }>(`SELECT version FROM "${schema}".schema_version`);
        assert.deepEqual(
          versions.map((r) => r.version),
          PG_MIGRATIONS.map((m) => m.version),
          'each step applied exactly once',
        );
        await stores[0]!.create(newJob('seen-by-all'));
        for (const store of stores) assert.equal((await store.get('seen-by-all'))?.jobId, 'seen-by-all');
        await stores[1]!.init(); // again: nothing to do
        const twice = new PostgresJobStore({ connectionString: (await testDatabase()).url, schema });
        await Promise.all([twice.init(), twice.init()]); // one opening, shared
        assert.equal((await twice.get('seen-by-all'))?.jobId, 'seen-by-all');
        assert.equal(twice.changeFeed.connects, 1);
        await twice.close();
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await dropSchema(schema);
      }
    });

    it('refuses a schema newer than it knows', async () => {
      const schema = `uws_new_${process.pid}`;
      const store = await openStore(schema);
      await store.close();
      await sql(
        `INSERT INTO "${schema}".schema_version (version, description) VALUES (99, 'from the future')`,
      );
      const again = new PostgresJobStore({ connectionString: (await testDatabase()).url, schema });
      await assert.rejects(again.init(), /version 99, newer than this software knows/);
      await dropSchema(schema);
    });

    it('refuses schema names that are not plain identifiers', () => {
      for (const schema of ['Uws', 'uws; DROP TABLE x', '', '1abc', 'a'.repeat(51)]) {
        assert.throws(
          () => new PostgresJobStore({ connectionString: 'postgres://h/db', schema }),
          BadRequestError,
        );
      }
    });

    it('is what storeFromUrl gives for postgres:// URLs, schema taken from the query', async () => {
      const db = await testDatabase();
      const store = storeFromUrl(`${db.url}?schema=uws_url_${process.pid}`);
      assert.ok(store instanceof PostgresJobStore);
      assert.equal(store.kind, 'postgres');
      assert.equal(store.schema, `uws_url_${process.pid}`);
      await store.init();
      try {
        await store.create(newJob('via-url'));
        const rows = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "uws_url_${process.pid}".jobs`);
        assert.equal(rows[0]?.n, 1);
      } finally {
        await store.close();
        await dropSchema(`uws_url_${process.pid}`);
      }
      assert.equal((storeFromUrl('postgresql://u@h:5433/db') as PostgresJobStore).schema, 'uws');
    });

    it('refuses a NUL character in a text column with a BadRequestError; in parameters it round-trips', async () => {
      const store = await openStore();
      try {
        await assert.rejects(store.create(newJob('nul-run', { runId: 'a\u0000b' })), BadRequestError);
        assert.equal(await store.get('nul-run'), null);
        const parameters = [{ name: 'x', value: 'a\u0000b' }];
        await store.create(newJob('nul-param', { parameters }));
        assert.deepEqual((await store.get('nul-param'))?.parameters, parameters);
      } finally {
        await store.close();
        await dropSchema(store.schema);
      }
    });

    it('keeps the first place and the last content when one batch names a result twice', async () => {
      const store = await openStore();
      try {
        await store.create(newJob('dup-results'));
        await store.update(
          'dup-results',
          {},
          { addResults: [{ id: 'old', mediaType: 'text/plain', size: 1 }] },
        );
        const outcome = await store.update(
          'dup-results',
          {},
          {
            addResults: [
              { id: 'x', mediaType: 'text/plain', size: 1 },
              { id: 'old', mediaType: 'text/csv', size: 2 },
              { id: 'x', mediaType: 'text/html', size: 3 },
            ],
          },
        );
        assert.ok(outcome.ok);
        const expected = [
          { id: 'old', mediaType: 'text/csv', size: 2 },
          { id: 'x', mediaType: 'text/html', size: 3 },
        ];
        assert.deepEqual(outcome.job.results, expected);
        assert.deepEqual((await store.get('dup-results'))?.results, expected);
      } finally {
        await store.close();
        await dropSchema(store.schema);
      }
    });

    it('claims in the same order as the SQLite store, limits and round robin included (randomised)', async () => {
      // A seeded generator, so a failure names a reproducible scenario.
      let seed = 20_261_128;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed / 2_147_483_648;
      };
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const owners = ['ann', 'bob', 'cy', 'dee', null];
      const types = ['echo', 'cutout'];
      for (let scenario = 0; scenario < 12; scenario++) {
        const pgStore = await openStore();
        const sqlite = new SqliteJobStore(':memory:');
        await sqlite.init();
        try {
          // Enough queued jobs (up to 150) that a flooding owner pushes idle owners past
          // the claim's 64-job window, some already EXECUTING, creation times with ties.
          const count = 60 + Math.floor(random() * 160);
          const flooder = pick(owners);
          for (let i = 0; i < count; i++) {
            const phase: Phase = random() < 0.02 ? 'EXECUTING' : random() < 0.05 ? 'PENDING' : 'QUEUED';
            // The flooder queued first; the others mostly later (ties on purpose).
            const floods = random() < 0.7;
            const job = newJob(`s${scenario}-${String(i).padStart(3, '0')}`, {
              phase,
              ownerId: floods ? flooder : pick(owners),
              jobType: pick(types),
              creationTime: T0 + Math.floor((floods ? 0 : count * 0.4) + random() * count * 0.6),
            });
            await pgStore.create(job);
            await sqlite.create(job);
          }
          const request = claim({
            maxExecuting: 2 + Math.floor(random() * 12),
            maxExecutingPerOwner: 1 + Math.floor(random() * 4),
            jobTypes: [
              { name: 'echo', maxExecuting: 1 + Math.floor(random() * 10) },
              ...(random() < 0.8 ? [{ name: 'cutout', maxExecuting: 1 + Math.floor(random() * 5) }] : []),
            ],
          });
          const running: string[] = [];
          for (let step = 0; step < 3 * count; step++) {
            if (running.length > 0 && random() < 0.45) {
              const [done] = running.splice(Math.floor(random() * running.length), 1);
              await pgStore.update(done!, {}, { phase: 'COMPLETED', lease: null });
              await sqlite.update(done!, {}, { phase: 'COMPLETED', lease: null });
              continue;
            }
            const fromPg = (await pgStore.claimNext(request))?.jobId ?? null;
            const fromSqlite = (await sqlite.claimNext(request))?.jobId ?? null;
            assert.equal(
              fromPg,
              fromSqlite,
              `scenario ${scenario}, step ${step}: ${JSON.stringify(request)}`,
            );
            if (fromPg) running.push(fromPg);
          }
        } finally {
          await sqlite.close();
          await pgStore.close();
          await dropSchema(pgStore.schema);
        }
      }
    });

    it('two nodes claiming 500 jobs at once: each claimed exactly once, limits never exceeded', async () => {
      const schema = `uws_claim_${process.pid}`;
      const nodeA = await openStore(schema, { poolSize: 6 });
      const nodeB = await openStore(schema, { poolSize: 6 });
      const MAX = 6;
      const PER_OWNER = 2;
      const owners = ['alice', 'bob', 'carol', 'dave', null];
      try {
        for (let i = 0; i < 500; i++) {
          await nodeA.create(
            newJob(`c-${String(i).padStart(3, '0')}`, {
              phase: 'QUEUED',
              ownerId: owners[i % owners.length] ?? null,
              creationTime: T0 + i,
            }),
          );
        }
        const claimedBy = new Map<string, string[]>();
        let maxSeen = 0;
        let maxPerOwnerSeen = 0;
        let done = false;

        // Samples the limits from the database while the nodes claim.
        const sampler = (async () => {
          let samples = 0;
          while (!done) {
            const counts = await nodeB.countByPhase();
            maxSeen = Math.max(maxSeen, counts.EXECUTING);
            const perOwner = await sql<{ n: number }>(
              `SELECT count(*)::int AS n FROM "${schema}".jobs WHERE phase = 'EXECUTING' GROUP BY owner_id`,
            );
            for (const row of perOwner) maxPerOwnerSeen = Math.max(maxPerOwnerSeen, row.n);
            samples += 1;
          }
          return samples;
        })();

        const worker = async (store: PostgresJobStore, nodeId: string) => {
          let idle = 0;
          while (idle < 20) {
            const job = await store.claimNext(
              claim({ nodeId, now: Date.now(), maxExecuting: MAX, maxExecutingPerOwner: PER_OWNER }),
            );
            if (!job) {
              idle += 1;
              await new Promise((r) => setTimeout(r, 5));
              continue;
            }
            idle = 0;
            const running = await store.countByPhase();
            maxSeen = Math.max(maxSeen, running.EXECUTING);
            claimedBy.set(job.jobId, [...(claimedBy.get(job.jobId) ?? []), nodeId]);
            await new Promise((r) => setTimeout(r, Math.random() * 3));
            const finished = await store.update(
              job.jobId,
              { phase: 'EXECUTING', leaseNodeId: nodeId },
              {
                phase: 'COMPLETED',
                endTime: Date.now(),
                lease: null,
                addResults: [{ id: 'r', mediaType: 'text/plain', size: 1 }],
              },
            );
            assert.ok(finished.ok, `${nodeId} could not complete ${job.jobId}`);
          }
        };
        await Promise.all([
          ...Array.from({ length: 4 }, (_, i) => worker(nodeA, `A-${i}`)),
          ...Array.from({ length: 4 }, (_, i) => worker(nodeB, `B-${i}`)),
        ]);
        done = true;
        const samples = await sampler;

        assert.equal(claimedBy.size, 500, 'every job claimed');
        const twice = [...claimedBy].filter(([, by]) => by.length !== 1);
        assert.deepEqual(twice, [], 'no job claimed twice');
        const counts = await nodeA.countByPhase();
        assert.equal(counts.COMPLETED, 500);
        assert.equal(counts.QUEUED + counts.EXECUTING, 0);
        assert.ok(maxSeen <= MAX, `EXECUTING peaked at ${maxSeen}, over the limit ${MAX}`);
        assert.ok(maxPerOwnerSeen <= PER_OWNER, `one owner ran ${maxPerOwnerSeen} at once`);
        assert.ok(samples > 0);
        const byNode = new Set([...claimedBy.values()].map((by) => by[0]!.slice(0, 1)));
        assert.deepEqual([...byNode].sort(), ['A', 'B'], 'both nodes took part');
      } finally {
        await nodeA.close();
        await nodeB.close();
        await dropSchema(schema);
      }
    });

    it("delivers one node's changes to the other's watch(), and its own exactly once", async () => {
      const schema = `uws_notify_${process.pid}`;
      const nodeA = await openStore(schema);
      const nodeB = await openStore(schema);
      try {
        const atA: JobChange[] = [];
        const atB: JobChange[] = [];
        const stopA = nodeA.watch((c) => atA.push(c));
        const stopB = nodeB.watch((c) => atB.push(c));
        await nodeB.create(newJob('n-1', { phase: 'QUEUED' }));
        await nodeB.claimNext(claim({ nodeId: 'B' }));
        await nodeB.update('n-1', { leaseNodeId: 'B' }, { phase: 'COMPLETED', lease: null });
        await nodeB.renewLeases('B', ['n-1'], T0); // not a change: nothing announced
        await nodeA.delete('n-1');
        const expected: JobChange[] = [
          { jobId: 'n-1', phase: 'QUEUED', version: 1, kind: 'created' },
          { jobId: 'n-1', phase: 'EXECUTING', version: 2, kind: 'updated' },
          { jobId: 'n-1', phase: 'COMPLETED', version: 3, kind: 'updated' },
          { jobId: 'n-1', phase: null, version: 3, kind: 'deleted' },
        ];
        await eventually(() => atA.length >= 4 && atB.length >= 4, 5000);
        await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(atA, expected);
        assert.deepEqual(atB, expected);
        stopA();
        stopB();
      } finally {
        await nodeA.close();
        await nodeB.close();
        await dropSchema(schema);
      }
    });

    it('announces changes made outside the store too (triggers), e.g. by an operator in psql', async () => {
      const store = await openStore();
      try {
        const seen: JobChange[] = [];
        store.watch((c) => seen.push(c));
        await store.create(newJob('by-hand', { phase: 'EXECUTING' }));
        await eventually(() => seen.length === 1, 5000);
        const stamp = `SELECT changed_at::float8 AS t FROM "${store.schema}".jobs WHERE job_id = 'by-hand'`;
        const before = (await sql<{ t: number }>(stamp))[0]!.t;
        await new Promise((r) => setTimeout(r, 5));
        await sql(
          `UPDATE "${store.schema}".jobs SET phase = 'ABORTED', version = version + 1 WHERE job_id = 'by-hand'`,
        );
        await eventually(() => seen.length === 2, 5000);
        assert.deepEqual(seen[1], { jobId: 'by-hand', phase: 'ABORTED', version: 2, kind: 'updated' });
        // Stamped for the replay after a lost connection, too.
        assert.ok((await sql<{ t: number }>(stamp))[0]!.t > before);
      } finally {
        await store.close();
        await dropSchema(store.schema);
      }
    });

    it('reconnects after its LISTEN connection is terminated and replays what it missed', async () => {
      const schema = `uws_drop_${process.pid}`;
      const watcher = await openStore(schema, { maxReconnectBackoffMs: 200, listenPingMs: 200 });
      const writer = await openStore(schema);
      try {
        await writer.create(newJob('gap-updated', { phase: 'EXECUTING' }));
        await writer.create(newJob('gap-deleted', { phase: 'QUEUED' }));
        const seen: JobChange[] = [];
        let resyncs = 0;
        watcher.watch((c) => seen.push(c));
        watcher.onResync(() => {
          resyncs += 1;
        });
        const pid = watcher.changeFeed.backendPid;
        assert.ok(pid !== null);
        assert.equal(watcher.changeFeed.connects, 1);
        await admin('SELECT pg_terminate_backend($1)', [pid]);
        // Changed while the watcher's LISTEN connection is gone: lost as notifications.
        await writer.update('gap-updated', {}, { phase: 'COMPLETED', lease: null });
        await writer.delete('gap-deleted');
        await writer.create(newJob('gap-created', { phase: 'QUEUED' }));

        await eventually(() => watcher.changeFeed.connects >= 2 && resyncs >= 1, 10_000);
        assert.notEqual(watcher.changeFeed.backendPid, pid);
        const has = (jobId: string, kind: JobChange['kind'], phase: JobChange['phase']) =>
          seen.some((c) => c.jobId === jobId && c.phase === phase && (c.kind === kind || kind === 'updated'));
        await eventually(
          () =>
            has('gap-updated', 'updated', 'COMPLETED') &&
            has('gap-deleted', 'deleted', null) &&
            has('gap-created', 'updated', 'QUEUED'),
          5000,
        );

        // And notifications flow again afterwards.
        const before = seen.length;
        await writer.create(newJob('after-reconnect', { phase: 'QUEUED' }));
        await eventually(
          () => seen.slice(before).some((c) => c.jobId === 'after-reconnect' && c.kind === 'created'),
          5000,
        );
      } finally {
        await watcher.close();
        await writer.close();
        await dropSchema(schema);
      }
    });

    it('comes back after the database refused every connection for a while (as in a restart)', async () => {
      const db = await testDatabase();
      const schema = `uws_outage_${process.pid}`;
      const watcher = await openStore(schema, { maxReconnectBackoffMs: 200, listenPingMs: 200 });
      const writer = await openStore(schema);
      let resyncs = 0;
      const seen: JobChange[] = [];
      watcher.watch((c) => seen.push(c));
      watcher.onResync(() => {
        resyncs += 1;
      });
      try {
        await writer.create(newJob('before-outage', { phase: 'QUEUED' }));
        await eventually(() => seen.some((c) => c.jobId === 'before-outage'), 5000);
        await admin(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS false`);
        try {
          await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]);
          await eventually(() => !watcher.changeFeed.connected, 5000);
          await assert.rejects(writer.get('before-outage'), 'the database is down for everyone');
          await new Promise((r) => setTimeout(r, 600)); // a few failed reconnect attempts
          assert.equal(watcher.changeFeed.connected, false);
        } finally {
          await admin(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS true`);
        }
        await eventually(() => watcher.changeFeed.connected && resyncs >= 1, 10_000);
        // Both pools recover by themselves: dead connections were dropped, new ones opened.
        assert.equal((await writer.get('before-outage'))?.phase, 'QUEUED');
        await writer.update('before-outage', {}, { phase: 'ABORTED' });
        await eventually(
          () =>
            seen.some((c) => c.jobId === 'before-outage' && c.phase === 'ABORTED' && c.kind === 'updated'),
          5000,
        );
        assert.equal((await watcher.get('before-outage'))?.phase, 'ABORTED');
      } finally {
        await watcher.close();
        await writer.close();
        await dropSchema(schema);
      }
    });

    it('never passes on a change older than one it already announced, nor an echo of its own', async () => {
      const schema = `uws_stale_${process.pid}`;
      const node = await openStore(schema);
      try {
        const seen: JobChange[] = [];
        node.watch((c) => seen.push(c));
        await node.create(newJob('stale-1', { phase: 'QUEUED' }));
        // Own changes are announced at once, before the call returns: no round trip.
        assert.deepEqual(seen, [{ jobId: 'stale-1', phase: 'QUEUED', version: 1, kind: 'created' }]);
        const claimed = await node.claimNext(claim({ nodeId: 'me' }));
        assert.equal(claimed?.version, 2);
        assert.equal(seen.length, 2);
        // A late notification of an older version (as when another node's 'created'
        // arrives after this node claimed the job) is not passed on; a newer one is.
        const channel = `${schema}_jobs`;
        await sql('SELECT pg_notify($1, $2)', [channel, 'stale-1 QUEUED 1 created']);
        await sql('SELECT pg_notify($1, $2)', [channel, 'stale-1 EXECUTING 2 updated']);
        await sql('SELECT pg_notify($1, $2)', [channel, 'stale-1 ABORTED 3 updated']);
        await eventually(() => seen.length === 3, 5000);
        await new Promise((r) => setTimeout(r, 100)); // the NOTIFY echoes of its own changes too
        assert.deepEqual(
          seen.map((c) => `${c.kind} ${c.phase} ${c.version}`),
          ['created QUEUED 1', 'updated EXECUTING 2', 'updated ABORTED 3'],
        );
      } finally {
        await node.close();
        await dropSchema(schema);
      }
    });

    it('reads notification payloads from the right, so job ids may hold spaces', () => {
      assert.deepEqual(parsePayload('a b 7 QUEUED 3 updated'), {
        jobId: 'a b 7',
        phase: 'QUEUED',
        version: 3,
        kind: 'updated',
      });
      assert.deepEqual(parsePayload('x - 4 deleted'), {
        jobId: 'x',
        phase: null,
        version: 4,
        kind: 'deleted',
      });
      assert.equal(parsePayload('garbage'), null);
      assert.equal(parsePayload('x QUEUED two updated'), null);
      assert.equal(parsePayload('x QUEUED 2 renamed'), null);
    });
  });
}
