import assert from 'node:assert/strict';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UwsInstance } from '../../src/app.js';
import { inProcessExecutor } from '../../src/exec/executors/in-process.js';
import type { JobTypeDefinition } from '../../src/exec/job-type.js';
import type { Caller } from '../../src/service.js';
import { eventually } from '../helpers/tmp.js';
import { endedJob as finalPhase, tempUws } from '../helpers/uws.js';

describe('scheduler: run limits under a burst', () => {
  let uws: UwsInstance;
  let close: () => Promise<void>;
  let executing = 0;
  let maxSeen = 0;
  const perOwner = new Map<string, number>();
  let maxPerOwnerSeen = 0;
  const burst: JobTypeDefinition = {
    name: 'burst',
    parameters: [{ name: 'OWNER', type: 'string' }],
    executor: inProcessExecutor(async (ctx) => {
      const owner = ctx.job.ownerId ?? '';
      executing++;
      perOwner.set(owner, (perOwner.get(owner) ?? 0) + 1);
      maxSeen = Math.max(maxSeen, executing);
      maxPerOwnerSeen = Math.max(maxPerOwnerSeen, perOwner.get(owner)!);
      await sleep(2 + Math.floor(Math.random() * 8));
      executing--;
      perOwner.set(owner, perOwner.get(owner)! - 1);
      await ctx.results.write('result', `done ${ctx.job.jobId}`, 'text/plain');
    }),
  };

  before(async () => {
    ({ uws, close } = await tempUws('sched-burst', {
      jobTypes: [burst],
      maxExecuting: 4,
      maxExecutingPerOwner: 2,
    }));
  });
  after(() => close());

  it('runs 200 queued jobs of 5 owners, never more than 4 at once nor 2 per owner, each exactly once', async () => {
    const owners = ['ann', 'bob', 'cyd', 'dee', 'eve'];
    let storeMax = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const counts = await uws.store.countByPhase();
        storeMax = Math.max(storeMax, counts.EXECUTING);
        await sleep(1);
      }
    })();
    const jobs = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const caller: Caller = { ownerId: owners[i % owners.length]! };
        return uws.service.createJob({
          jobType: 'burst',
          caller,
          parameters: [{ name: 'PHASE', value: 'RUN' }],
        });
      }),
    );
    assert.ok(
      jobs.every((j) => j.phase === 'QUEUED'),
      'PHASE=RUN at creation stores the job QUEUED',
    );
    const ended = await Promise.all(jobs.map((j) => finalPhase(uws, j.jobId)));
    sampling = false;
    await sampler;
    assert.deepEqual(new Set(ended.map((j) => j.phase)), new Set(['COMPLETED']));
    assert.ok(maxSeen <= 4, `at most 4 ran at once, saw ${maxSeen}`);
    assert.ok(maxSeen >= 2, `the limit was actually used, saw ${maxSeen}`);
    assert.ok(maxPerOwnerSeen <= 2, `at most 2 per owner, saw ${maxPerOwnerSeen}`);
    assert.ok(storeMax <= 4, `the store never showed more than 4 EXECUTING, saw ${storeMax}`);
    for (const j of ended) {
      assert.equal(j.results.length, 1);
      assert.ok(j.startTime !== null && j.endTime !== null && j.startTime <= j.endTime);
      assert.equal(j.lease, null, 'an ended job holds no lease');
    }
  });
});

describe('scheduler: execution duration, abort and errors (in-process)', () => {
  let uws: UwsInstance;
  let close: () => Promise<void>;
  const anyone: Caller = { ownerId: null };
  const stubborn: JobTypeDefinition = {
    name: 'wait',
    parameters: [{ name: 'SECONDS', type: 'number', default: '60' }],
    timePolicy: { executionDuration: { default: 1, max: 5 } },
    executor: inProcessExecutor(async (ctx) => {
      await ctx.results.write('partial', 'written before the end', 'text/plain');
      await sleep((ctx.parameters['SECONDS'] as number) * 1000, undefined, { signal: ctx.signal });
    }),
  };
  const failing: JobTypeDefinition = {
    name: 'fail',
    executor: inProcessExecutor(async () => {
      throw new Error('the telescope is closed');
    }),
  };

  before(async () => {
    ({ uws, close } = await tempUws('sched-limits', {
      jobTypes: [stubborn, failing],
      maxExecuting: 1,
    }));
  });
  after(() => close());

  it('OBJ-20: a job over its executionDuration ends ABORTED, says why, keeps its results and frees the slot', async () => {
    const job = await uws.service.createJob({
      jobType: 'wait',
      caller: anyone,
      parameters: [{ name: 'phase', value: 'run' }],
    });
    const ended = await finalPhase(uws, job.jobId);
    assert.equal(ended.phase, 'ABORTED');
    assert.match(ended.errorSummary?.message ?? '', /execution duration limit of 1 s/);
    assert.deepEqual(
      ended.results.map((r) => r.id),
      ['partial'],
    );
    await eventually(() => uws.scheduler!.runningCount === 0);
    const next = await uws.service.createJob({
      jobType: 'fail',
      caller: anyone,
      parameters: [{ name: 'PHASE', value: 'RUN' }],
    });
    assert.equal((await finalPhase(uws, next.jobId)).phase, 'ERROR');
  });

  it('PH-5: a client abort stops the work, keeps ABORTED and frees the slot', async () => {
    const job = await uws.service.createJob({
      jobType: 'wait',
      caller: anyone,
      parameters: [
        { name: 'PHASE', value: 'RUN' },
        { name: 'EXECUTIONDURATION', value: '5' },
      ],
    });
    await eventually(async () => (await uws.store.get(job.jobId))?.phase === 'EXECUTING');
    await uws.service.abort(job.jobId, anyone);
    const ended = await finalPhase(uws, job.jobId);
    assert.equal(ended.phase, 'ABORTED');
    await eventually(() => uws.scheduler!.runningCount === 0);
    await sleep(50);
    assert.equal((await uws.store.get(job.jobId))?.phase, 'ABORTED', 'a late outcome does not undo ABORTED');
  });

  it('ERR-1: a handler that throws ends in ERROR with its message and the stack at /error', async () => {
    const job = await uws.service.createJob({
      jobType: 'fail',
      caller: anyone,
      parameters: [{ name: 'PHASE', value: 'RUN' }],
    });
    const ended = await finalPhase(uws, job.jobId);
    assert.equal(ended.phase, 'ERROR');
    assert.match(ended.errorSummary!.message, /the telescope is closed/);
    assert.equal(ended.errorSummary!.hasDetail, true);
    assert.match(await uws.service.errorDetail(job.jobId, anyone), /Error: the telescope is closed/);
  });

  it('DEL-1: destroying an executing job aborts the work and forgets the job and its directory', async () => {
    const job = await uws.service.createJob({
      jobType: 'wait',
      caller: anyone,
      parameters: [{ name: 'PHASE', value: 'RUN' }],
    });
    await eventually(async () => (await uws.store.get(job.jobId))?.phase === 'EXECUTING');
    await uws.service.destroy(job.jobId, anyone);
    assert.equal(await uws.store.get(job.jobId), null);
    await eventually(() => uws.scheduler!.runningCount === 0);
  });
});

describe('reaper', () => {
  let uws: UwsInstance;
  let close: () => Promise<void>;
  const anyone: Caller = { ownerId: null };

  before(async () => {
    ({ uws, close } = await tempUws('reaper', {
      builtins: true,
      maxExecuting: 2,
    }));
  });
  after(() => close());

  it('OBJ-22: a job is destroyed at its destruction time, by the timer, not the periodic sweep', async () => {
    const job = await uws.service.createJob({ jobType: 'sleep', caller: anyone, parameters: [] });
    await uws.service.setDestruction(job.jobId, anyone, new Date(Date.now() + 300).toISOString());
    await eventually(async () => (await uws.store.get(job.jobId)) === null, 5_000);
  });
});

describe('reaper: archive policy and orphaned directories', () => {
  let uws: UwsInstance;
  let close: () => Promise<void>;
  const anyone: Caller = { ownerId: null };

  before(async () => {
    ({ uws, close } = await tempUws('reaper-archive', {
      builtins: true,
      maxExecuting: 2,
      destructionPolicy: 'archive',
    }));
  });
  after(() => close());

  it('OBJ-16: with the archive policy a job at its destruction time keeps its metadata as ARCHIVED, without results', async () => {
    const job = await uws.service.createJob({
      jobType: 'catalogue',
      caller: anyone,
      parameters: [{ name: 'PHASE', value: 'RUN' }],
    });
    const done = await finalPhase(uws, job.jobId);
    assert.equal(done.results.length, 1);
    await uws.service.setDestruction(job.jobId, anyone, new Date(Date.now() + 200).toISOString());
    const archived = await eventually(async () => {
      const j = await uws.store.get(job.jobId);
      return j?.phase === 'ARCHIVED' ? j : null;
    }, 5_000);
    assert.equal(archived.results.length, 0);
    assert.ok(archived.endTime !== null, 'the metadata is kept');
    await eventually(() => !existsSync(uws.workDirs.path(job.jobId)), 5_000);
    const listed: string[] = [];
    for await (const s of uws.service.listJobs(anyone, {})) listed.push(s.jobId);
    assert.ok(!listed.includes(job.jobId), 'JL-GET-3: ARCHIVED is hidden by default');
    for await (const s of uws.service.listJobs(anyone, { phases: ['ARCHIVED'] })) listed.push(s.jobId);
    assert.ok(listed.includes(job.jobId), 'JL-GET-6: PHASE=ARCHIVED lists it');
  });

  it('removes working directories that no job owns, but not young ones or ones a job owns', async () => {
    const owned = await uws.service.createJob({ jobType: 'sleep', caller: anyone, parameters: [] });
    await uws.workDirs.ensure(owned.jobId);
    const orphan = 'orphanedDirectoryOfAGoneJob';
    const young = 'aDirectoryBeingCreatedNow';
    await uws.workDirs.ensure(orphan);
    await uws.workDirs.ensure(young);
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(uws.workDirs.path(orphan), old, old);
    utimesSync(uws.workDirs.path(owned.jobId), old, old);
    const removed = await uws.reaper.cleanOrphans();
    assert.deepEqual(removed, [orphan]);
    assert.equal(existsSync(uws.workDirs.path(orphan)), false);
    assert.equal(existsSync(uws.workDirs.path(young)), true);
    assert.equal(existsSync(uws.workDirs.path(owned.jobId)), true);
  });
});

describe('built-in job types', () => {
  let uws: UwsInstance;
  let close: () => Promise<void>;
  const anyone: Caller = { ownerId: null };
  before(async () => {
    ({ uws, close } = await tempUws('builtins', { builtins: true, maxExecuting: 2 }));
  });
  after(() => close());

  const cases = [
    { jobType: 'catalogue', parameters: [{ name: 'ROWS', value: '3' }], expect: /<TR><TD>3<\/TD>/ },
    { jobType: 'factor', parameters: [{ name: 'NUMBER', value: '360' }], expect: /^360: 2 2 2 3 3 5$/m },
    { jobType: 'primes', parameters: [{ name: 'LIMIT', value: '100' }], expect: /^25 primes/ },
    { jobType: 'sleep', parameters: [{ name: 'DURATION', value: '0.05' }], expect: /^slept 0.05 s/ },
  ];
  for (const c of cases) {
    it(`${c.jobType} completes with a result named "result"`, async () => {
      const job = await uws.service.createJob({
        jobType: c.jobType,
        caller: anyone,
        parameters: [...c.parameters, { name: 'PHASE', value: 'RUN' }],
      });
      const ended = await finalPhase(uws, job.jobId);
      assert.equal(ended.phase, 'COMPLETED', JSON.stringify(ended.errorSummary));
      const { path } = await uws.service.result(job.jobId, anyone, 'result');
      assert.match(readFileSync(path!, 'utf8'), c.expect);
    });
  }

  it('sleep with MESSAGE ends in ERROR with that message', async () => {
    const job = await uws.service.createJob({
      jobType: 'sleep',
      caller: anyone,
      parameters: [
        { name: 'DURATION', value: '0' },
        { name: 'MESSAGE', value: 'the dome is closed' },
        { name: 'PHASE', value: 'RUN' },
      ],
    });
    const ended = await finalPhase(uws, job.jobId);
    assert.equal(ended.phase, 'ERROR');
    assert.match(ended.errorSummary!.message, /the dome is closed/);
  });
});
