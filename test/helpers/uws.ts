import { join } from 'node:path';
import { createUwsService, type UwsInstance, type UwsOptions } from '../../src/app.js';
import type { Job } from '../../src/core/job.js';
import { eventually, tempDir } from './tmp.js';

/** A UWS on a fresh SQLite file and working directory in a temp folder; `close` stops it and removes both. */
export async function tempUws(
  prefix: string,
  options: Omit<UwsOptions, 'store' | 'workDir'> = {},
  { start = true }: { start?: boolean } = {},
): Promise<{ uws: UwsInstance; dir: string; close: () => Promise<void> }> {
  const tmp = tempDir(prefix);
  const uws = await createUwsService({
    store: `sqlite:${join(tmp.dir, 'uws.db')}`,
    workDir: join(tmp.dir, 'jobs'),
    ...options,
  });
  if (start) await uws.start();
  return {
    uws,
    dir: tmp.dir,
    close: async () => {
      await uws.stop();
      tmp.cleanup();
    },
  };
}

/** Waits until the job has reached COMPLETED, ERROR or ABORTED. */
export function endedJob(uws: UwsInstance, jobId: string, timeoutMs = 30_000): Promise<Job> {
  return eventually(async () => {
    const job = await uws.store.get(jobId);
    return job && ['COMPLETED', 'ERROR', 'ABORTED'].includes(job.phase) ? job : null;
  }, timeoutMs);
}
