import { BadRequestError } from '../core/errors.js';
import { PostgresJobStore } from './postgres/store.js';
import { SqliteJobStore } from './sqlite/store.js';
import type { JobStore } from './types.js';

export { PostgresJobStore, type PostgresStoreOptions } from './postgres/store.js';
export { SqliteJobStore, type SqliteStoreOptions } from './sqlite/store.js';
export type * from './types.js';

/**
 * Where a store lives, as configured: `sqlite:/path/file.db`, `sqlite:///path/file.db`,
 * `sqlite::memory:`, or a plain file path for SQLite; `postgres://...` for PostgreSQL,
 * where an extra `schema=name` query parameter picks the PostgreSQL schema (default `uws`).
 * Nothing is opened until init().
 */
export function storeFromUrl(url: string): JobStore {
  const trimmed = url.trim();
  if (trimmed === '') throw new BadRequestError('the store URL is empty', 'store');
  if (/^postgres(ql)?:/i.test(trimmed)) return postgresFromUrl(trimmed);
  if (/^sqlite:/i.test(trimmed)) {
    const path = trimmed.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new BadRequestError(`the store URL ${url} names no file`, 'store');
    return new SqliteJobStore(path);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new BadRequestError(
      `unsupported store URL ${url}: use sqlite:/path/file.db or postgres://...`,
      'store',
    );
  }
  return new SqliteJobStore(trimmed);
}

/** Opens the store a URL names and brings its schema up to date. */
export async function openStore(url: string): Promise<JobStore> {
  const store = storeFromUrl(url);
  await store.init();
  return store;
}

function postgresFromUrl(url: string): PostgresJobStore {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadRequestError(`the store URL ${redact(url)} is not a valid URL`, 'store');
  }
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  return new PostgresJobStore({
    connectionString: parsed.toString(),
    ...(schema !== null ? { schema } : {}),
  });
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}
