/**
 * A throwaway PostgreSQL database per test run. Makes sure the local server is up
 * first (starting the cluster with pg_ctlcluster when it is down, as on CI machines),
 * and reports why when it truly cannot be reached, so a test can skip with that reason.
 *
 * The server is taken from UWS_TEST_PG_URL (an admin URL to the `postgres` database),
 * else postgres://postgres@127.0.0.1:5432/postgres (trust auth).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import pg from 'pg';

export const ADMIN_URL = process.env.UWS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  /** Connection URL of the throwaway database. */
  readonly url: string;
  /** Drops the database (ending any connection still open to it). */
  drop(): Promise<void>;
}

let ready: Promise<string | null> | undefined;

/** null when PostgreSQL answers; otherwise the reason it cannot be used. Checked once per process. */
export function postgresUnavailable(): Promise<string | null> {
  ready ??= ensureRunning();
  return ready;
}

async function canConnect(): Promise<string | null> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

async function ensureRunning(): Promise<string | null> {
  const first = await canConnect();
  if (first === null) return null;
  const url = new URL(ADMIN_URL);
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (!local) return `PostgreSQL at ${url.host} cannot be reached: ${first}`;
  // Start the local cluster(s), as .ci/run does, and wait for pg_isready.
  let versions: string[] = [];
  try {
    versions = readdirSync('/etc/postgresql');
  } catch {
    return `PostgreSQL at ${url.host} cannot be reached (${first}) and no local cluster is installed`;
  }
  for (const version of versions) {
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' });
  }
  for (let i = 0; i < 60; i++) {
    const probe = spawnSync('pg_isready', ['-h', url.hostname, '-p', url.port || '5432'], {
      stdio: 'ignore',
    });
    if (probe.status === 0 && (await canConnect()) === null) return null;
    await new Promise((r) => setTimeout(r, 500));
  }
  return `PostgreSQL at ${url.host} cannot be reached (${first}), and starting the local cluster did not help`;
}

/** Creates `uws_test_<random>` on the server; the caller drops it when done. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `uws_test_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Runs one statement as the admin user on the `postgres` database. */
export async function admin(sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}
