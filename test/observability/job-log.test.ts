import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createUwsService } from '../../src/app.js';
import { JobTypeRegistry } from '../../src/exec/job-type.js';
import { createHttpServer } from '../../src/http/server.js';
import { workDirStager } from '../../src/http/uploads.js';
import { logJobRuns, registerJobLogContext } from '../../src/observability/job-log.js';
import { WorkDirs } from '../../src/results/workdirs.js';
import { UwsService } from '../../src/service.js';
import { openStore } from '../../src/store/index.js';
import type { JobStore } from '../../src/store/types.js';
import { eventually, tempDir } from '../helpers/tmp.js';

describe('request log lines about a job', () => {
  const tmp = tempDir('job-log');
  const lines: Record<string, unknown>[] = [];
  let store: JobStore;
  let service: UwsService;
  let app: ReturnType<typeof createHttpServer>;
  let base: string;

  before(async () => {
    store = await openStore(path.join(tmp.dir, 'jobs.db'));
    const workDirs = new WorkDirs(path.join(tmp.dir, 'work'));
    service = new UwsService({
      store,
      files: workDirs,
      jobTypes: new JobTypeRegistry([
        {
          name: 'demo',
          parameters: [{ name: 'N', type: 'integer' }],
          executor: { kind: 'in-process', execute: async () => ({ status: 'completed' }) },
        },
      ]),
    });
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    app = createHttpServer({
      service,
      stage: workDirStager(workDirs, 1 << 20),
      loggerInstance: pino({ level: 'info' }, sink),
    });
    registerJobLogContext(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await app.close();
    service.close();
    await store.close();
    tmp.cleanup();
  });

  it('carry jobId as a field once the route matched, for the job and every resource under it', async () => {
    const created = await fetch(`${base}/demo/async`, {
      method: 'POST',
      body: new URLSearchParams({ N: '1' }),
      redirect: 'manual',
    });
    const jobUrl = created.headers.get('location')!;
    const jobId = jobUrl.split('/').pop()!;
    for (const suffix of ['', '/phase', '/parameters', '/results', '/error'])
      await fetch(`${jobUrl}${suffix}`);
    // A bad request about the job: its error answer is logged with the job too.
    await fetch(`${jobUrl}/phase`, { method: 'POST', body: new URLSearchParams({ PHASE: 'FLY' }) });
    const completed = lines.filter((l) => l['msg'] === 'request completed');
    const aboutJob = completed.filter((l) =>
      String((l['req'] as { url?: string } | undefined)?.url ?? '').includes(jobId),
    );
    // Fastify's completion line has no URL of its own; match by the request id of the incoming line.
    const incoming = new Map(
      lines
        .filter((l) => l['msg'] === 'incoming request')
        .map((l) => [l['reqId'], String((l['req'] as { url: string }).url)]),
    );
    const completedForJob = completed.filter((l) => incoming.get(l['reqId'])?.includes(`/${jobId}`));
    assert.equal(completedForJob.length, 6, JSON.stringify(lines.slice(0, 4)));
    for (const l of completedForJob) assert.equal(l['jobId'], jobId);
    assert.equal(aboutJob.length, 0, 'the completion line names the job as a field, not by URL');
    // The job list itself is about no single job.
    const listLine = completed.find((l) => incoming.get(l['reqId']) === '/demo/async');
    assert.ok(listLine);
    assert.equal(listLine['jobId'], undefined);
  });
});

describe('job run log lines', () => {
  it('name the job, its type, how the run ended and how long it waited and ran', async () => {
    const tmp = tempDir('job-run-log');
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const uws = await createUwsService({
      store: `sqlite:${path.join(tmp.dir, 'jobs.db')}`,
      workDir: path.join(tmp.dir, 'jobs'),
      onJobFinished: logJobRuns(pino({ level: 'info' }, sink)),
    });
    try {
      await uws.start();
      const caller = { ownerId: 'alice' };
      const ok = await uws.service.createJob({
        jobType: 'catalogue',
        caller,
        parameters: [{ name: 'PHASE', value: 'RUN' }],
      });
      const failed = await uws.service.createJob({
        jobType: 'sleep',
        caller,
        parameters: [
          { name: 'DURATION', value: '0' },
          { name: 'MESSAGE', value: 'no luck' },
          { name: 'PHASE', value: 'RUN' },
        ],
      });
      const ended = await eventually(() => {
        const runs = lines.filter((l) => l['msg'] === 'job run ended');
        return runs.length === 2 ? runs : null;
      });
      const byId = new Map(ended.map((l) => [l['jobId'], l]));
      assert.equal(byId.get(ok.jobId)?.['outcome'], 'completed');
      assert.equal(byId.get(ok.jobId)?.['jobType'], 'catalogue');
      assert.equal(byId.get(ok.jobId)?.['ownerId'], 'alice');
      assert.equal(byId.get(failed.jobId)?.['outcome'], 'error');
      assert.equal(byId.get(failed.jobId)?.['error'], 'no luck');
      for (const l of ended) {
        assert.equal(typeof l['runMs'], 'number');
        assert.ok((l['queuedMs'] as number) >= 0);
      }
    } finally {
      await uws.stop();
      tmp.cleanup();
    }
  });
});
