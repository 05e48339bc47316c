import { BadRequestError } from '../../core/errors.js';

/** The PostgreSQL schema the store uses when none is configured. */
export const DEFAULT_SCHEMA = 'uws';

/**
 * Schema names go into SQL text (they cannot be bind parameters), so only plain
 * lower-case identifiers are accepted; 50 characters leaves room for the
 * `<schema>_jobs` channel within PostgreSQL's 63-byte identifier limit.
 */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,49}$/;

export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new BadRequestError(
      `PostgreSQL schema name ${JSON.stringify(schema)} is not a plain lower-case identifier (a-z, 0-9, _; at most 50)`,
      'schema',
    );
  }
  return schema;
}

/** Every SQL name the store uses, derived from its schema. */
export interface StoreNames {
  readonly schema: string;
  /** `"schema"`, ready to prefix table and function names. */
  readonly s: string;
  /** The LISTEN/NOTIFY channel that carries job changes. */
  readonly channel: string;
  /** Advisory lock keys (two-int form: class, object), one per purpose and schema. */
  readonly claimLock: readonly [number, number];
  readonly migrateLock: readonly [number, number];
}

/** 'UWS\0': the advisory lock class, so our keys cannot meet another application's. */
const LOCK_CLASS = 0x55575300;

export function storeNames(schema: string): StoreNames {
  checkSchemaName(schema);
  return {
    schema,
    s: `"${schema}"`,
    channel: `${schema}_jobs`,
    claimLock: [LOCK_CLASS, fnv1a32(`${schema}:claim`)],
    migrateLock: [LOCK_CLASS, fnv1a32(`${schema}:migrate`)],
  };
}

/** FNV-1a, as a signed 32-bit integer (what pg_advisory_xact_lock(int, int) takes). */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}
