import { BadRequestError, UnavailableError } from '../core/errors.js';
import { SqliteJobStore } from './sqlite/store.js';
import type { JobStore } from './types.js';

export { SqliteJobStore, type SqliteStoreOptions } from './sqlite/store.js';
export type * from './types.js';

/**
 * Where a store lives, as configured: `sqlite:/path/file.db`, `sqlite:///path/file.db`,
 * `sqlite::memory:`, or a plain file path for SQLite; `postgres://...` for PostgreSQL.
 */
export function storeFromUrl(url: string): JobStore {
  const trimmed = url.trim();
  if (trimmed === '') throw new BadRequestError('the store URL is empty', 'store');
  if (/^postgres(ql)?:/i.test(trimmed)) {
    throw new UnavailableError('PostgreSQL store not available');
  }
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
