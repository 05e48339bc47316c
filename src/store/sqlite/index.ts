export { MIGRATIONS, type Migration, migrate, schemaVersion } from './migrations.js';
export { SqliteJobStore, type SqliteStoreOptions } from './store.js';
