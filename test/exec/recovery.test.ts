import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createUwsService } from '../../src/app.js';
import { commandExecutor } from '../../src/exec/executors/command.js';
import { threadExecutor } from '../../src/exec/executors/thread.js';
import { eventually, REPO_ROOT, tempDir } from '../helpers/tmp.js';
import { recoveryJobTypes } from './recovery-fixtures/job-types.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

describe('restart recovery', () => {
  it('kill -9 mid-job, then a restart: no job is left EXECUTING without a live lease', async () => {
    const tmp = tempDir('recovery');
    const dbFile = join(tmp.dir, 'uws.db');
    const workDir = join(tmp.dir, 'jobs');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test/exec/recovery-fixtures/crashing-server.ts'), dbFile, workDir],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
    });
    await eventually(() => out.includes('\n'), 30_000);
    const [ready, onceId, againId] = out.trim().split(' ') as [string, string, string];
    assert.equal(ready, 'READY');
    child.kill('SIGKILL');
    await once(child, 'exit');

    // Long leases: recovery must come from seeing the dead pid, not from expiry.
    const uws = await createUwsService({
      store: `sqlite:${dbFile}`,
      workDir,
      jobTypes: recoveryJobTypes,
      maxExecuting: 4,
      leaseSeconds: 3600,
    });
    try {
      const before = await uws.store.get(onceId);
      assert.equal(before?.phase, 'EXECUTING', 'the crash left the job EXECUTING');
      assert.equal(before?.lease?.nodeId.endsWith(`-${child.pid}`), true);
      await uws.start();
      const interrupted = await uws.store.get(onceId);
      assert.equal(interrupted?.phase, 'ERROR');
      assert.match(interrupted?.errorSummary?.message ?? '', /interrupted by server restart/);
      assert.deepEqual(
        interrupted?.results.map((r) => r.id),
        ['started'],
        'results written before the crash are kept',
      );
      const restarted = await eventually(async () => {
        const job = await uws.store.get(againId);
        return job?.phase === 'EXECUTING' && job.lease?.nodeId === uws.scheduler!.nodeId ? job : null;
      });
      assert.ok(restarted.startTime !== null);
      for await (const s of uws.store.list({ phases: ['EXECUTING'] })) {
        const job = await uws.store.get(s.jobId);
        assert.equal(job?.lease?.nodeId, uws.scheduler!.nodeId, `job ${s.jobId} is run by a live node`);
      }
    } finally {
      await uws.stop();
      tmp.cleanup();
    }
  });

  it('a job whose runner stopped renewing its lease is resolved once the lease expires', async () => {
    const tmp = tempDir('lease');
    const uws = await createUwsService({
      store: `sqlite:${join(tmp.dir, 'uws.db')}`,
      workDir: join(tmp.dir, 'jobs'),
      jobTypes: recoveryJobTypes,
      maxExecuting: 1,
    });
    try {
      const job = await uws.service.createJob({ jobType: 'once', caller: { ownerId: null }, parameters: [] });
      // Another host's runner claimed it and then vanished.
      const claimed = await uws.store.update(
        job.jobId,
        {},
        {
          phase: 'EXECUTING',
          startTime: Date.now(),
          lease: { nodeId: 'elsewhere-1', expiresAt: Date.now() + 300 },
        },
      );
      assert.ok(claimed.ok);
      await uws.start();
      assert.equal((await uws.store.get(job.jobId))?.phase, 'EXECUTING', 'a live lease is respected');
      const resolved = await eventually(async () => {
        const j = await uws.store.get(job.jobId);
        return j?.phase === 'ERROR' ? j : null;
      }, 10_000);
      assert.match(resolved.errorSummary?.message ?? '', /lease expired/);
    } finally {
      await uws.stop();
      tmp.cleanup();
    }
  });
});

describe('executors under the scheduler', () => {
  it('OBJ-20: a command over its executionDuration ends ABORTED and its process is gone', async () => {
    const tmp = tempDir('cmd-duration');
    let pid = 0;
    const uws = await createUwsService({
      store: `sqlite:${join(tmp.dir, 'uws.db')}`,
      workDir: join(tmp.dir, 'jobs'),
      jobTypes: [
        {
          name: 'nap',
          timePolicy: { executionDuration: { default: 1, max: 10 } },
          executor: commandExecutor({
            command: ['sleep', '60'],
            gracePeriodMs: 500,
            onSpawn: (p) => {
              pid = p;
            },
          }),
        },
      ],
      maxExecuting: 1,
    });
    try {
      await uws.start();
      const job = await uws.service.createJob({
        jobType: 'nap',
        caller: { ownerId: null },
        parameters: [{ name: 'PHASE', value: 'RUN' }],
      });
      await eventually(() => pid > 0);
      assert.ok(isAlive(pid));
      const ended = await eventually(async () => {
        const j = await uws.store.get(job.jobId);
        return j?.phase === 'ABORTED' ? j : null;
      }, 15_000);
      assert.match(ended.errorSummary?.message ?? '', /execution duration limit/);
      assert.equal(isAlive(pid), false, `process ${pid} is gone`);
      assert.equal(uws.scheduler!.runningCount, 0, 'the slot is free');
    } finally {
      await uws.stop();
      tmp.cleanup();
    }
  });

  for (const kind of ['command', 'thread'] as const) {
    it(`PH-5: abort of a ${kind} job stops the work and frees the slot for the next job`, async () => {
      const tmp = tempDir(`abort-${kind}`);
      const pids: number[] = [];
      const executor =
        kind === 'command'
          ? commandExecutor({
              command: ['bash', '-c', 'trap "" TERM; sleep 60'],
              gracePeriodMs: 300,
              onSpawn: (p) => {
                pids.push(p);
              },
            })
          : threadExecutor({
              module: join(REPO_ROOT, 'test/exec/fixtures/worker-busy.ts'),
              gracePeriodMs: 200,
            });
      const uws = await createUwsService({
        store: `sqlite:${join(tmp.dir, 'uws.db')}`,
        workDir: join(tmp.dir, 'jobs'),
        jobTypes: [{ name: 'busy', executor }],
        maxExecuting: 1,
      });
      try {
        await uws.start();
        const caller = { ownerId: null };
        const run = [{ name: 'PHASE', value: 'RUN' }];
        const first = await uws.service.createJob({ jobType: 'busy', caller, parameters: run });
        const second = await uws.service.createJob({ jobType: 'busy', caller, parameters: run });
        await eventually(async () => (await uws.store.get(first.jobId))?.phase === 'EXECUTING');
        assert.equal((await uws.store.get(second.jobId))?.phase, 'QUEUED', 'one slot: the second waits');
        if (kind === 'command') await eventually(() => pids.length === 1);
        await uws.service.abort(first.jobId, caller);
        await eventually(async () => (await uws.store.get(second.jobId))?.phase === 'EXECUTING', 15_000);
        assert.equal((await uws.store.get(first.jobId))?.phase, 'ABORTED');
        if (kind === 'command') {
          await eventually(() => pids.length === 2);
          const aborted = await uws.store.get(first.jobId);
          assert.deepEqual(
            aborted?.results.map((r) => r.id),
            ['log'],
            'the log written as the aborted run wound down is kept',
          );
          assert.equal(isAlive(pids[0]!), false, 'the process that ignored SIGTERM was killed');
        }
        await uws.service.abort(second.jobId, caller);
        await eventually(() => uws.scheduler!.runningCount === 0, 15_000);
      } finally {
        await uws.stop();
        tmp.cleanup();
      }
    });
  }
});
