import type pg from 'pg';
import type { StoreNames } from './names.js';

/**
 * The schema as an ordered list of steps. A step, once released, never changes:
 * later changes are new steps. The SQL is a function of the store's names, so one
 * database can hold several independent stores (tests use a schema each).
 */
export interface PgMigration {
  readonly version: number;
  readonly description: string;
  readonly sql: (names: StoreNames) => string;
}

const PHASE_CHECK = `('PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED', 'ERROR', 'ABORTED', 'UNKNOWN',
  'HELD', 'SUSPENDED', 'ARCHIVED')`;

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'jobs, results, change announcements, fair claim',
    sql: ({ s, channel, claimLock }) => `
      -- Milliseconds on the database's clock: every node compares change times against
      -- one clock, whatever its own says.
      CREATE FUNCTION ${s}.now_ms() RETURNS bigint LANGUAGE sql VOLATILE
        AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

      CREATE TABLE ${s}.jobs (
        -- COLLATE "C": byte order, so keyset paging agrees with plain string comparison.
        job_id             text COLLATE "C" PRIMARY KEY,
        job_type           text    NOT NULL,
        run_id             text,
        owner_id           text COLLATE "C",
        phase              text    NOT NULL CHECK (phase IN ${PHASE_CHECK}),
        quote              bigint,
        creation_time      bigint  NOT NULL,
        start_time         bigint,
        end_time           bigint,
        execution_duration bigint  NOT NULL,
        destruction        bigint,
        -- JSON kept as text: read back verbatim, and \\u0000 escapes stay legal (jsonb refuses them).
        parameters         text    NOT NULL,
        job_info           text,
        error_type         text    CHECK (error_type IN ('transient', 'fatal')),
        error_message      text,
        error_has_detail   boolean,
        error_detail       text,
        lease_node         text,
        lease_expires      bigint,
        version            integer NOT NULL,
        -- When the last versioned change was made (database clock): what a node replays
        -- after its LISTEN connection was lost.
        changed_at         bigint  NOT NULL DEFAULT ${s}.now_ms()
      );

      -- The job list, newest first, and its keyset paging.
      CREATE INDEX jobs_by_creation ON ${s}.jobs (creation_time DESC, job_id DESC);
      -- One owner's list, and that owner's counts.
      CREATE INDEX jobs_by_owner ON ${s}.jobs (owner_id, creation_time DESC, job_id DESC);
      -- PHASE filters, counts by phase, and the EXECUTING counts of the claim.
      CREATE INDEX jobs_by_phase ON ${s}.jobs (phase, creation_time DESC, job_id DESC);
      -- The claim order: oldest queued first, overall and per owner (round robin).
      CREATE INDEX jobs_queued ON ${s}.jobs (creation_time, job_id) WHERE phase = 'QUEUED';
      CREATE INDEX jobs_queued_by_owner ON ${s}.jobs (owner_id, creation_time, job_id) WHERE phase = 'QUEUED';
      -- (IS NULL is no equality to the planner: anonymous jobs need their own ordered index.)
      CREATE INDEX jobs_queued_anonymous ON ${s}.jobs (creation_time, job_id)
        WHERE phase = 'QUEUED' AND owner_id IS NULL;
      -- The destruction reaper and its timer.
      CREATE INDEX jobs_by_destruction ON ${s}.jobs (destruction, job_id)
        WHERE phase <> 'ARCHIVED' AND destruction IS NOT NULL;
      -- Recovery of jobs whose runner stopped renewing its lease.
      CREATE INDEX jobs_by_lease_expiry ON ${s}.jobs (lease_expires, job_id) WHERE phase = 'EXECUTING';
      -- The replay after a lost LISTEN connection.
      CREATE INDEX jobs_by_change ON ${s}.jobs (changed_at, job_id);

      CREATE TABLE ${s}.results (
        job_id     text COLLATE "C" NOT NULL REFERENCES ${s}.jobs (job_id) ON DELETE CASCADE,
        id         text    NOT NULL,
        media_type text    NOT NULL,
        size       bigint,
        file_name  text,
        href       text,
        ordinal    integer NOT NULL,
        PRIMARY KEY (job_id, id)
      );

      -- Deletions, kept a while so that a node whose LISTEN connection dropped can still
      -- wake a WAIT on a job deleted meanwhile.
      CREATE TABLE ${s}.deleted_jobs (
        job_id     text COLLATE "C" NOT NULL,
        version    integer NOT NULL,
        deleted_at bigint  NOT NULL
      );
      CREATE INDEX deleted_jobs_by_time ON ${s}.deleted_jobs (deleted_at);

      -- Every committed versioned change is announced in its own transaction, whoever
      -- made it (any node, or an operator with psql): '<jobId> <phase> <version> <kind>'.
      -- Lease renewals keep the version and are not announced.
      CREATE FUNCTION ${s}.announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          INSERT INTO ${s}.deleted_jobs (job_id, version, deleted_at)
            VALUES (OLD.job_id, OLD.version, ${s}.now_ms());
          PERFORM pg_notify('${channel}', OLD.job_id || ' - ' || OLD.version || ' deleted');
          RETURN OLD;
        END IF;
        PERFORM pg_notify('${channel}', NEW.job_id || ' ' || NEW.phase || ' ' || NEW.version
          || CASE WHEN TG_OP = 'INSERT' THEN ' created' ELSE ' updated' END);
        RETURN NEW;
      END $$;
      -- Stamps every versioned change, whoever makes it, for the replay.
      CREATE FUNCTION ${s}.stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.changed_at := ${s}.now_ms();
        RETURN NEW;
      END $$;
      CREATE TRIGGER jobs_stamp_change BEFORE UPDATE ON ${s}.jobs
        FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION ${s}.stamp_change();
      CREATE TRIGGER jobs_announce_insert AFTER INSERT ON ${s}.jobs
        FOR EACH ROW EXECUTE FUNCTION ${s}.announce_change();
      CREATE TRIGGER jobs_announce_update AFTER UPDATE ON ${s}.jobs
        FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION ${s}.announce_change();
      CREATE TRIGGER jobs_announce_delete AFTER DELETE ON ${s}.jobs
        FOR EACH ROW EXECUTE FUNCTION ${s}.announce_change();

      -- Claims the best QUEUED job for a node, or returns no row. Runs server side in
      -- one round trip, so the claim lock is never held across a network hop or a
      -- busy client's event loop. All claimers serialise on a transaction-scoped
      -- advisory lock taken BEFORE the counts are read: in READ COMMITTED each
      -- statement below gets a fresh snapshot, so it sees every claim committed by
      -- whoever held the lock before, and the limits hold across all nodes.
      -- The chosen job is taken with FOR UPDATE SKIP LOCKED: a queued job another
      -- writer is changing (an abort, a delete) is passed over, never waited for.
      -- The planner settings keep the plans on the claim's indexes whatever the
      -- statistics say (none yet, or taken when most jobs were queued): index scans
      -- also mark the dead entries a busy queue leaves behind, bitmap scans do not.
      CREATE FUNCTION ${s}.claim_next(
        p_node text, p_now bigint, p_lease_ms bigint, p_max_executing integer,
        p_max_per_owner integer, p_types text[], p_type_limits integer[]
      ) RETURNS SETOF ${s}.jobs LANGUAGE plpgsql VOLATILE
        SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off SET jit = off
      AS $$
      DECLARE
        v_running integer;
        v_anonymous integer;
        v_busy text[];
        v_types text[];
        v_skip text[] := '{}';
        v_window integer;
        v_job text;
        v_attempt integer;
      BEGIN
        IF p_max_executing <= 0 OR p_max_per_owner <= 0 OR coalesce(cardinality(p_types), 0) = 0 THEN
          RETURN;
        END IF;
        -- Cheap looks first, without the lock, so that idle nodes and nodes at the limit
        -- do not queue up behind real claims. Counts only rise under the lock, so a
        -- stale 'full' or 'empty' is safe: whatever changed it commits after this
        -- snapshot, and its NOTIFY wakes the caller to try again.
        IF NOT EXISTS (SELECT 1 FROM ${s}.jobs w WHERE w.phase = 'QUEUED' ORDER BY w.creation_time, w.job_id LIMIT 1)
           OR (SELECT count(*) FROM ${s}.jobs e WHERE e.phase = 'EXECUTING') >= p_max_executing THEN
          RETURN;
        END IF;
        PERFORM pg_advisory_xact_lock(${claimLock[0]}, ${claimLock[1]});

        SELECT count(*), count(*) FILTER (WHERE e.owner_id IS NULL),
               coalesce(array_agg(DISTINCT e.owner_id) FILTER (WHERE e.owner_id IS NOT NULL), '{}')
          INTO v_running, v_anonymous, v_busy
          FROM ${s}.jobs e WHERE e.phase = 'EXECUTING';
        IF v_running >= p_max_executing THEN
          RETURN;
        END IF;

        SELECT array_agg(t.name) INTO v_types
          FROM unnest(p_types, p_type_limits) AS t(name, max_executing)
         WHERE t.max_executing > (SELECT count(*) FROM ${s}.jobs e
                                   WHERE e.phase = 'EXECUTING' AND e.job_type = t.name);
        IF v_types IS NULL THEN
          RETURN;
        END IF;

        FOR v_attempt IN 1..8 LOOP
          -- Owners with nothing running go first, in plain FIFO order. Usually the
          -- answer is near the head of the queue: look at the first 64 queued jobs.
          SELECT count(*),
                 (array_agg(q.job_id ORDER BY q.creation_time, q.job_id) FILTER (
                    WHERE q.job_type = ANY (v_types) AND q.job_id <> ALL (v_skip)
                      AND CASE WHEN q.owner_id IS NULL THEN v_anonymous = 0
                               ELSE q.owner_id <> ALL (v_busy) END))[1]
            INTO v_window, v_job
            FROM (SELECT w.job_id, w.owner_id, w.job_type, w.creation_time FROM ${s}.jobs w
                   WHERE w.phase = 'QUEUED' ORDER BY w.creation_time, w.job_id LIMIT 64) AS q;
          -- Past a long head of busy owners' jobs: the oldest job of each idle owner,
          -- found by skipping from owner to owner in the queued-by-owner index.
          IF v_job IS NULL AND v_window = 64 THEN
            SELECT c.job_id INTO v_job FROM (
              WITH RECURSIVE owners(owner_id) AS (
                (SELECT w.owner_id FROM ${s}.jobs w
                  WHERE w.phase = 'QUEUED' AND w.owner_id IS NOT NULL ORDER BY w.owner_id LIMIT 1)
                UNION ALL
                SELECT (SELECT w.owner_id FROM ${s}.jobs w
                         WHERE w.phase = 'QUEUED' AND w.owner_id > o.owner_id ORDER BY w.owner_id LIMIT 1)
                  FROM owners o WHERE o.owner_id IS NOT NULL
              )
              SELECT f.job_id, f.creation_time FROM owners o
               CROSS JOIN LATERAL (
                 SELECT w.job_id, w.creation_time FROM ${s}.jobs w
                  WHERE w.phase = 'QUEUED' AND w.owner_id = o.owner_id AND w.job_type = ANY (v_types)
                    AND w.job_id <> ALL (v_skip)
                  ORDER BY w.creation_time, w.job_id LIMIT 1) AS f
               WHERE o.owner_id IS NOT NULL AND o.owner_id <> ALL (v_busy)
              UNION ALL
              SELECT f.job_id, f.creation_time FROM (
                 SELECT w.job_id, w.creation_time FROM ${s}.jobs w
                  WHERE v_anonymous = 0 AND w.phase = 'QUEUED' AND w.owner_id IS NULL
                    AND w.job_type = ANY (v_types) AND w.job_id <> ALL (v_skip)
                  ORDER BY w.creation_time, w.job_id LIMIT 1) AS f
            ) AS c
            ORDER BY c.creation_time, c.job_id
            LIMIT 1;
          END IF;

          -- Then owners by how little they run, each level FIFO: one index seek per busy owner.
          IF v_job IS NULL THEN
            SELECT c.job_id INTO v_job FROM (
              SELECT b.n, f.job_id, f.creation_time
                FROM (SELECT e.owner_id, count(*) AS n FROM ${s}.jobs e
                       WHERE e.phase = 'EXECUTING' AND e.owner_id IS NOT NULL
                       GROUP BY e.owner_id HAVING count(*) < p_max_per_owner) AS b
                CROSS JOIN LATERAL (
                  SELECT w.job_id, w.creation_time FROM ${s}.jobs w
                   WHERE w.phase = 'QUEUED' AND w.owner_id = b.owner_id AND w.job_type = ANY (v_types)
                     AND w.job_id <> ALL (v_skip)
                   ORDER BY w.creation_time, w.job_id LIMIT 1) AS f
              UNION ALL
              SELECT v_anonymous, f.job_id, f.creation_time
                FROM (SELECT w.job_id, w.creation_time FROM ${s}.jobs w
                       WHERE v_anonymous > 0 AND v_anonymous < p_max_per_owner
                         AND w.phase = 'QUEUED' AND w.owner_id IS NULL AND w.job_type = ANY (v_types)
                         AND w.job_id <> ALL (v_skip)
                       ORDER BY w.creation_time, w.job_id LIMIT 1) AS f
            ) AS c
            ORDER BY c.n, c.creation_time, c.job_id
            LIMIT 1;
          END IF;
          IF v_job IS NULL THEN
            RETURN;
          END IF;

          RETURN QUERY
            UPDATE ${s}.jobs j
               SET phase = 'EXECUTING', start_time = p_now, lease_node = p_node,
                   lease_expires = p_now + p_lease_ms, version = j.version + 1
             WHERE j.job_id = (SELECT l.job_id FROM ${s}.jobs l
                                WHERE l.job_id = v_job AND l.phase = 'QUEUED' FOR UPDATE SKIP LOCKED)
            RETURNING j.*;
          IF FOUND THEN
            RETURN;
          END IF;
          -- Someone else holds that row (or it just left QUEUED): choose again without it.
          v_skip := v_skip || v_job;
        END LOOP;
      END $$;
    `,
  },
  {
    version: 2,
    description: 'ordered index for the anonymous job list',
    // Without it, a table with no statistics yet (autovacuum off or not run) lists anonymous jobs
    // through jobs_by_owner plus a full sort: 34 ms at 100k rows, growing with the table.
    sql: ({ s }) => `
      CREATE INDEX jobs_anonymous_by_type ON ${s}.jobs (job_type, creation_time DESC, job_id DESC)
        WHERE owner_id IS NULL;
    `,
  },
];

/**
 * Brings the schema up to date in one transaction, under a transaction-scoped
 * advisory lock: when several nodes start at once, the first applies the steps and
 * the others wait, then find them recorded and skip them. DDL is transactional in
 * PostgreSQL, so a failed step leaves nothing half done.
 */
export async function migratePg(
  client: pg.ClientBase,
  names: StoreNames,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<number> {
  const { s } = names;
  const known = migrations[migrations.length - 1]?.version ?? 0;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...names.migrateLock]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (
      version     integer PRIMARY KEY,
      description text    NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now()
    )`);
    const found = await currentVersion(client, names);
    if (found > known) {
      throw new Error(
        `PostgreSQL schema ${names.schema} has version ${found}, newer than this software knows (${known}); upgrade ivoa-uws`,
      );
    }
    let applied = 0;
    for (const migration of migrations) {
      if (migration.version <= found) continue;
      await client.query(migration.sql(names));
      await client.query(`INSERT INTO ${s}.schema_version (version, description) VALUES ($1, $2)`, [
        migration.version,
        migration.description,
      ]);
      applied += 1;
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** The highest schema version recorded (0 when the schema or its version table is missing). */
export async function pgSchemaVersion(client: pg.ClientBase, names: StoreNames): Promise<number> {
  const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [
    `${names.s}.schema_version`,
  ]);
  if (!exists.rows[0]?.present) return 0;
  return currentVersion(client, names);
}

async function currentVersion(client: pg.ClientBase, names: StoreNames): Promise<number> {
  const result = await client.query(
    `SELECT coalesce(max(version), 0)::integer AS v FROM ${names.s}.schema_version`,
  );
  return (result.rows[0] as { v: number }).v;
}
