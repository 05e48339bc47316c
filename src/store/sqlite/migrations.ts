import type Database from 'better-sqlite3';

/**
 * The schema as an ordered list of steps. A step, once released, never changes:
 * later changes are new steps, so every database file can be brought forward from
 * whatever version it was left at.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'jobs and results',
    sql: `
      CREATE TABLE jobs (
        job_id             TEXT    PRIMARY KEY NOT NULL,
        job_type           TEXT    NOT NULL,
        run_id             TEXT,
        owner_id           TEXT,
        phase              TEXT    NOT NULL CHECK (phase IN ('PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED',
                             'ERROR', 'ABORTED', 'UNKNOWN', 'HELD', 'SUSPENDED', 'ARCHIVED')),
        quote              INTEGER,
        creation_time      INTEGER NOT NULL,
        start_time         INTEGER,
        end_time           INTEGER,
        execution_duration INTEGER NOT NULL,
        destruction        INTEGER,
        parameters         TEXT    NOT NULL,
        job_info           TEXT,
        error_type         TEXT    CHECK (error_type IN ('transient', 'fatal')),
        error_message      TEXT,
        error_has_detail   INTEGER,
        error_detail       TEXT,
        lease_node         TEXT,
        lease_expires      INTEGER,
        version            INTEGER NOT NULL
      ) STRICT;

      -- The job list, newest first, and its keyset paging.
      CREATE INDEX jobs_by_creation ON jobs (creation_time DESC, job_id DESC);
      -- One owner's list, and that owner's counts.
      CREATE INDEX jobs_by_owner ON jobs (owner_id, creation_time DESC, job_id DESC);
      -- PHASE filters, counts by phase, and (phase = 'QUEUED') the claim order: oldest first.
      CREATE INDEX jobs_by_phase ON jobs (phase, creation_time, job_id);
      -- The claim's look-up of one owner's oldest queued job (round robin between owners).
      CREATE INDEX jobs_queued_by_owner ON jobs (owner_id, creation_time, job_id) WHERE phase = 'QUEUED';
      -- The destruction reaper and its timer.
      CREATE INDEX jobs_by_destruction ON jobs (destruction, job_id)
        WHERE phase <> 'ARCHIVED' AND destruction IS NOT NULL;
      -- Recovery of jobs whose runner stopped renewing its lease.
      CREATE INDEX jobs_by_lease_expiry ON jobs (lease_expires, job_id) WHERE phase = 'EXECUTING';

      CREATE TABLE results (
        job_id     TEXT    NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
        id         TEXT    NOT NULL,
        media_type TEXT    NOT NULL,
        size       INTEGER,
        file_name  TEXT,
        href       TEXT,
        ordinal    INTEGER NOT NULL,
        PRIMARY KEY (job_id, id)
      ) STRICT;
    `,
  },
];

const CREATE_VERSION_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY NOT NULL,
    description TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL
  )`;

/**
 * Brings the schema up to date, one IMMEDIATE transaction per step. The write lock
 * is taken before the current version is read, so when two processes start at once
 * the second waits, then sees the step already applied and skips it.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  let applied = 0;
  for (const migration of migrations) {
    const step = db.transaction(() => {
      db.exec(CREATE_VERSION_TABLE);
      const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
      if ((row.v ?? 0) >= migration.version) return false;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.description,
        Date.now(),
      );
      return true;
    });
    if (step.immediate()) applied += 1;
  }
  return applied;
}

/** The highest schema version recorded in the file (0 for a fresh file). */
export function schemaVersion(db: Database.Database): number {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  if (!exists) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}
