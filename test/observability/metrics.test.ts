import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createUwsService, startServer } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { UwsMetrics } from '../../src/observability/metrics.js';
import { eventually, tempDir } from '../helpers/tmp.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';

const ACTIVE = new Set(['PENDING', 'QUEUED', 'EXECUTING']);

async function scrape(base: string) {
  const r = await fetch(`${base}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await r.text());
}

/** Creates and starts a job over HTTP; returns its URL. */
async function submit(base: string, type: string, params: Record<string, string>): Promise<string> {
  const r = await fetch(`${base}/${type}/async`, {
    method: 'POST',
    body: new URLSearchParams({ ...params, PHASE: 'RUN' }),
    redirect: 'manual',
  });
  assert.equal(r.status, 303);
  return r.headers.get('location')!;
}

async function finish(jobUrl: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${jobUrl}?WAIT=5`, { headers: { Accept: 'application/json' } });
    const job = (await r.json()) as { phase: string };
    if (!ACTIVE.has(job.phase)) return job.phase;
  }
  throw new Error(`${jobUrl} did not finish`);
}

describe('/metrics on a real server', () => {
  const tmp = tempDir('metrics');
  let server: Awaited<ReturnType<typeof startServer>>;
  let base: string;

  before(async () => {
    const config = validateConfig({
      server: { port: 0 },
      store: { url: `sqlite:${path.join(tmp.dir, 'jobs.db')}` },
      workDir: path.join(tmp.dir, 'jobs'),
      log: { level: 'silent' },
      scheduler: { maxExecuting: 2 },
    });
    server = await startServer(config);
    base = server.url;
  });
  after(async () => {
    await server.stop();
    tmp.cleanup();
  });

  it('parses, and job counts and histograms move as jobs run', async () => {
    const first = await scrape(base);
    const completed = { job_type: 'catalogue', phase: 'COMPLETED' };
    assert.equal(sampleValue(first, 'uws_jobs', completed), 0);
    assert.equal(sampleValue(first, 'uws_jobs', { job_type: 'sleep', phase: 'ERROR' }), 0);
    assert.equal(first.get('uws_jobs')?.type, 'gauge');
    assert.equal(first.get('uws_job_run_seconds')?.type, 'histogram');
    assert.equal(first.get('uws_http_request_duration_seconds')?.type, 'histogram');
    // prom-client's process metrics are there too.
    assert.ok(first.has('process_cpu_user_seconds_total'));

    const jobs = [
      await submit(base, 'catalogue', { ROWS: '5' }),
      await submit(base, 'catalogue', { ROWS: '7' }),
      await submit(base, 'sleep', { DURATION: '0', MESSAGE: 'planned failure' }),
    ];
    assert.deepEqual(await Promise.all(jobs.map(finish)), ['COMPLETED', 'COMPLETED', 'ERROR']);
    assert.equal((await fetch(`${base}/no/such/thing`)).status, 404);

    // Counts are cached for a moment; they catch up within a few seconds.
    const later = await eventually(async () => {
      const m = await scrape(base);
      return sampleValue(m, 'uws_jobs', completed) === 2 ? m : null;
    });
    assert.equal(sampleValue(later, 'uws_jobs', { job_type: 'sleep', phase: 'ERROR' }), 1);
    assert.equal(sampleValue(later, 'uws_jobs', { job_type: 'catalogue', phase: 'QUEUED' }), 0);
    const runs = (labels: Record<string, string>) => sampleValue(later, 'uws_job_run_seconds_count', labels);
    assert.equal(runs({ job_type: 'catalogue', outcome: 'completed' }), 2);
    assert.equal(runs({ job_type: 'sleep', outcome: 'error' }), 1);
    assert.equal(sampleValue(later, 'uws_job_queue_wait_seconds_count', { job_type: 'catalogue' }), 2);
    const http = (labels: Record<string, string>) =>
      sampleValue(later, 'uws_http_request_duration_seconds_count', labels);
    assert.equal(http({ method: 'POST', route: '/catalogue/async', status_code: '303' }), 2);
    assert.ok((http({ method: 'GET', route: '/catalogue/async/:jobId', status_code: '200' }) ?? 0) >= 2);
    assert.equal(http({ method: 'GET', route: '(unmatched)', status_code: '404' }), 1);
    // Never the raw URL of a job as a label value: the series stay few.
    const routes = later.get('uws_http_request_duration_seconds')!.samples.map((s) => s.labels['route']);
    assert.ok(!routes.some((r) => r?.includes(jobs[0]!.split('/').pop()!)));
  });

  it('counts open WAITs while a client blocks on a job', async () => {
    const created = await fetch(`${base}/sleep/async`, {
      method: 'POST',
      body: new URLSearchParams({ DURATION: '1' }),
      redirect: 'manual',
    });
    const jobUrl = created.headers.get('location')!;
    const waits = async () => sampleValue(await scrape(base), 'uws_open_waits');
    assert.equal(await waits(), 0);
    const client = new AbortController();
    const blocked = fetch(`${jobUrl}?WAIT=30`, { signal: client.signal }).catch(() => null);
    await eventually(async () => (await waits()) === 1);
    client.abort();
    await blocked;
    await eventually(async () => (await waits()) === 0);
  });
});

describe('UwsMetrics', () => {
  it('reads the store once per cache period, and its text agrees with the registry', async () => {
    const tmp = tempDir('metrics-unit');
    const uws = await createUwsService({
      store: `sqlite:${path.join(tmp.dir, 'jobs.db')}`,
      workDir: path.join(tmp.dir, 'jobs'),
      runJobs: false,
    });
    try {
      let reads = 0;
      const countByPhase = uws.store.countByPhase.bind(uws.store);
      uws.store.countByPhase = (filter) => {
        reads++;
        return countByPhase(filter);
      };
      let now = 1_000_000;
      const metrics = new UwsMetrics({ processMetrics: false, countsCacheMs: 2000, now: () => now }).attach(
        uws.service,
      );
      const types = uws.service.jobTypes.all().length;
      await uws.service.createJob({ jobType: 'catalogue', caller: { ownerId: null }, parameters: [] });
      const text = (await metrics.render()).body;
      assert.equal(reads, types);
      await metrics.render();
      now += 1999;
      await metrics.render();
      assert.equal(reads, types, 'scrapes within the cache period read nothing');
      now += 1;
      await metrics.render();
      assert.equal(reads, 2 * types);

      const parsed = parsePrometheusText(text);
      assert.equal(sampleValue(parsed, 'uws_jobs', { job_type: 'catalogue', phase: 'PENDING' }), 1);
      for (const metric of await metrics.registry.getMetricsAsJSON()) {
        for (const v of metric.values) {
          const name = (v as { metricName?: string }).metricName ?? metric.name;
          const labels = Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)]));
          assert.equal(sampleValue(parsed, name, labels), v.value, `${name} ${JSON.stringify(labels)}`);
        }
      }
    } finally {
      await uws.stop();
      tmp.cleanup();
    }
  });
});

describe('the exposition reader', () => {
  it('refuses what Prometheus would refuse', () => {
    const ok = '# HELP a_total x\n# TYPE a_total counter\na_total{l="v\\"q"} 1\n';
    assert.equal(sampleValue(parsePrometheusText(ok), 'a_total', { l: 'v"q' }), 1);
    for (const bad of [
      'a_total 1\n',
      '# TYPE a counter\na{l=v} 1\n',
      '# TYPE a counter\na{1l="v"} 1\n',
      '# TYPE a counter\na one\n',
      '# TYPE a gauge\na 1',
      '# TYPE a widget\na 1\n',
      '# TYPE a histogram\na_bucket{le="1"} 2\na_bucket{le="+Inf"} 1\na_count 1\n',
      '# TYPE a histogram\na_bucket{le="1"} 1\na_bucket{le="+Inf"} 1\na_count 2\n',
    ]) {
      assert.throws(() => parsePrometheusText(bad), Error, JSON.stringify(bad));
    }
  });
});
