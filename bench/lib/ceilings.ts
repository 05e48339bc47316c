/**
 * The machine's ceilings, measured in the same run as the figures they scale:
 * raw better-sqlite3 commits (one row per transaction, the store's pragmas), raw
 * SQLite row reads, and raw PostgreSQL commits through `pg`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';

function withTempDb<T>(body: (db: Database.Database) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'uws-bench-ceiling-'));
  const db = new Database(join(dir, 'ceiling.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return body(db);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Commits per second, each an IMMEDIATE transaction inserting one job-sized row. */
export function sqliteCommitsPerSecond(seconds: number): number {
  return withTempDb((db) => {
    db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, created INTEGER NOT NULL, phase TEXT NOT NULL, body TEXT)');
    const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)');
    const once = db.transaction((i: number) =>
      insert.run(`job-${i}`, Date.now(), 'PENDING', 'x'.repeat(200)),
    );
    let n = 0;
    const end = performance.now() + seconds * 1000;
    const t = performance.now();
    while (performance.now() < end) {
      for (let k = 0; k < 100; k++) once.immediate(n++);
    }
    return n / ((performance.now() - t) / 1000);
  });
}

/** Rows per second read in index order, as a job list reads them (newest first). */
export function sqliteRowsPerSecond(rows: number): number {
  return withTempDb((db) => {
    db.exec(
      'CREATE TABLE t (id TEXT PRIMARY KEY, created INTEGER NOT NULL, phase TEXT NOT NULL, owner TEXT, run_id TEXT)',
    );
    db.exec('CREATE INDEX t_created ON t (created DESC, id DESC)');
    const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?, NULL, NULL)');
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(`job-${i}`, 1_700_000_000_000 + i, 'COMPLETED');
    })();
    const select = db.prepare(
      'SELECT id, created, phase, owner, run_id FROM t ORDER BY created DESC, id DESC',
    );
    const t = performance.now();
    let n = 0;
    for (const _ of select.iterate()) n++;
    return n / ((performance.now() - t) / 1000);
  });
}

/** Autocommitted one-row INSERTs per second over `clients` connections. */
export async function postgresCommitsPerSecond(
  url: string,
  clients: number,
  seconds: number,
): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: clients });
  const table = `uws_bench_ceiling_${process.pid}`;
  try {
    await pool.query(
      `CREATE TABLE ${table} (id TEXT PRIMARY KEY, created BIGINT NOT NULL, phase TEXT NOT NULL, body TEXT)`,
    );
    let n = 0;
    const end = performance.now() + seconds * 1000;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        let i = 0;
        while (performance.now() < end) {
          await pool.query(`INSERT INTO ${table} VALUES ($1, $2, 'PENDING', $3)`, [
            `job-${c}-${i++}`,
            Date.now(),
            'x'.repeat(200),
          ]);
          n++;
        }
      }),
    );
    return n / ((performance.now() - t) / 1000);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await pool.end();
  }
}
