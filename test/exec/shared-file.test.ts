import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createUwsService } from '../../src/app.js';
import { inProcessExecutor } from '../../src/exec/executors/in-process.js';
import { SqliteJobStore } from '../../src/store/sqlite/store.js';
import { transitionJob } from '../../src/store/transition.js';
import { eventually, tempDir } from '../helpers/tmp.js';

// A second connection to the same SQLite file stands for another process (the admin CLI, a worker).
describe('changes committed by another connection to the same SQLite file', () => {
  it('WAIT-3: a blocking WAIT wakes when another process changes the phase', async () => {
    const tmp = tempDir('shared-wait');
    const file = join(tmp.dir, 'uws.db');
    const uws = await createUwsService({
      store: `sqlite:${file}`,
      workDir: join(tmp.dir, 'jobs'),
      runJobs: false,
    });
    const other = new SqliteJobStore(file);
    await other.init();
    try {
      const caller = { ownerId: null };
      const job = await uws.service.createJob({ jobType: 'sleep', caller, parameters: [] });
      const started = Date.now();
      const waiting = uws.service.waitForChange(job.jobId, caller, { timeoutMs: 20_000 });
      await sleep(100);
      await transitionJob(other, job.jobId, 'QUEUED', 'client', Date.now());
      const seen = await waiting;
      assert.equal(seen.phase, 'QUEUED');
      assert.ok(Date.now() - started < 10_000, 'woken by the change, not by the timeout');
      assert.equal(uws.service.openWaits(), 0);
    } finally {
      await other.close();
      await uws.stop();
      tmp.cleanup();
    }
  });

  it('PH-5: an abort committed by another process stops the running work', async () => {
    const tmp = tempDir('shared-abort');
    const file = join(tmp.dir, 'uws.db');
    let stopped = false;
    const uws = await createUwsService({
      store: `sqlite:${file}`,
      workDir: join(tmp.dir, 'jobs'),
      maxExecuting: 1,
      jobTypes: [
        {
          name: 'long',
          executor: inProcessExecutor(async (ctx) => {
            await sleep(60_000, undefined, { signal: ctx.signal }).catch((err) => {
              stopped = true;
              throw err;
            });
          }),
        },
      ],
    });
    const other = new SqliteJobStore(file);
    await other.init();
    try {
      await uws.start();
      const caller = { ownerId: null };
      const job = await uws.service.createJob({
        jobType: 'long',
        caller,
        parameters: [{ name: 'PHASE', value: 'RUN' }],
      });
      await eventually(async () => (await uws.store.get(job.jobId))?.phase === 'EXECUTING');
      await transitionJob(other, job.jobId, 'ABORTED', 'client', Date.now());
      await eventually(() => stopped && uws.scheduler!.runningCount === 0, 10_000);
      assert.equal((await uws.store.get(job.jobId))?.phase, 'ABORTED');
    } finally {
      await other.close();
      await uws.stop();
      tmp.cleanup();
    }
  });
});
