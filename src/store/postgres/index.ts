export { parsePayload, type StoreLog } from './change-feed.js';
export { migratePg, PG_MIGRATIONS, type PgMigration, pgSchemaVersion } from './migrations.js';
export { checkSchemaName, DEFAULT_SCHEMA, storeNames } from './names.js';
export { PostgresJobStore, type PostgresStoreOptions } from './store.js';
