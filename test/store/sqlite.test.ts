import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteJobStore } from '../../src/store/sqlite/store.js';
import { runStoreContract } from './contract.js';

runStoreContract('SQLite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uws-store-'));
  const store = new SqliteJobStore(join(dir, 'jobs.db'));
  await store.init();
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
