import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { JobTypeRegistry } from '../../src/exec/job-type.js';
import { createHttpServer } from '../../src/http/server.js';
import { workDirStager } from '../../src/http/uploads.js';
import { registerJobLogContext } from '../../src/observability/job-log.js';
import { WorkDirs } from '../../src/results/workdirs.js';
import { UwsService } from '../../src/service.js';
import { openStore } from '../../src/store/index.js';
import type { JobStore } from '../../src/store/types.js';
import { tempDir } from '../helpers/tmp.js';

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
