import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { JobResult } from '../../src/core/job.js';
import type { Phase } from '../../src/core/phases.js';
import { type JobTypeDefinition, JobTypeRegistry } from '../../src/exec/job-type.js';
import { createHttpServer, type HttpServerOptions } from '../../src/http/server.js';
import { workDirStager } from '../../src/http/uploads.js';
import { createResultWriter } from '../../src/results/result-files.js';
import { WorkDirs } from '../../src/results/workdirs.js';
import { type ServiceOptions, UwsService } from '../../src/service.js';
import { openStore } from '../../src/store/index.js';
import { transitionJob } from '../../src/store/transition.js';
import type { JobStore } from '../../src/store/types.js';

/** A job type with one parameter of each kind; its executor never runs here (no scheduler). */
export const DEMO: JobTypeDefinition = {
  name: 'demo',
  description: 'a test job type',
  parameters: [
    { name: 'QUERY', type: 'string', description: 'any text' },
    { name: 'N', type: 'integer', min: 0, max: 100 },
    { name: 'MODE', type: 'enum', values: ['fast', 'slow'] },
    { name: 'UPLOAD', type: 'upload' },
    { name: 'DATA', type: 'file' },
    { name: 'TAG', type: 'string', multiple: true },
  ],
  timePolicy: { executionDuration: { default: 600, max: 3600 } },
  executor: { kind: 'in-process', execute: async () => ({ status: 'completed' }) },
};

export interface Harness {
  readonly base: string;
  readonly store: JobStore;
  readonly service: UwsService;
  readonly workDirs: WorkDirs;
  readonly app: FastifyInstance;
  readonly dir: string;
  close(): Promise<void>;
  /** The absolute URL of a path on the server. */
  url(p: string): string;
  /** Creates a job over HTTP and returns its id (the last segment of the 303 Location). */
  create(params?: Record<string, string> | [string, string][], type?: string): Promise<string>;
  /** Moves a job along as the server would (no scheduler in these tests). */
  move(jobId: string, to: Phase, extras?: Parameters<typeof transitionJob>[5]): Promise<void>;
  /** Writes a result file the way a runner does and lists it. */
  addResult(jobId: string, id: string, data: string | Uint8Array, mediaType: string): Promise<JobResult>;
}

export async function startHarness(
  options: {
    jobTypes?: JobTypeDefinition[];
    server?: Partial<HttpServerOptions>;
    service?: (workDirs: WorkDirs) => Partial<ServiceOptions>;
  } = {},
): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-http-'));
  const store = await openStore(path.join(dir, 'jobs.db'));
  const workDirs = new WorkDirs(path.join(dir, 'work'));
  const service = new UwsService({
    store,
    jobTypes: new JobTypeRegistry(options.jobTypes ?? [DEMO]),
    files: workDirs,
    ...options.service?.(workDirs),
  });
  const app = createHttpServer({
    service,
    stage: workDirStager(workDirs, 1 << 20),
    logger: false,
    maxWaitSeconds: 5,
    ...options.server,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const base = `http://127.0.0.1:${address.port}`;
  const h: Harness = {
    base,
    store,
    service,
    workDirs,
    app,
    dir,
    url: (p) => `${base}${p}`,
    async close() {
      await app.close();
      service.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async create(params = {}, type = 'demo') {
      const pairs = Array.isArray(params) ? params : Object.entries(params);
      const res = await fetch(`${base}/${type}/async`, {
        method: 'POST',
        body: new URLSearchParams(pairs),
        redirect: 'manual',
      });
      if (res.status !== 303) throw new Error(`create gave ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      return res.headers.get('location')!.split('/').pop()!;
    },
    async move(jobId, to, extras) {
      const path: Record<string, Phase[]> = {
        QUEUED: ['QUEUED'],
        EXECUTING: ['QUEUED', 'EXECUTING'],
        COMPLETED: ['QUEUED', 'EXECUTING', 'COMPLETED'],
        ERROR: ['QUEUED', 'EXECUTING', 'ERROR'],
        ABORTED: ['ABORTED'],
        SUSPENDED: ['QUEUED', 'EXECUTING', 'SUSPENDED'],
        ARCHIVED: ['QUEUED', 'EXECUTING', 'COMPLETED', 'ARCHIVED'],
      };
      const all = path[to] ?? [to];
      // Only the steps after the phase the job is in now.
      const now = (await store.get(jobId))?.phase;
      const steps = now && all.includes(now) ? all.slice(all.indexOf(now) + 1) : all;
      for (const [i, phase] of steps.entries()) {
        const r = await transitionJob(
          store,
          jobId,
          phase,
          'server',
          Date.now(),
          i === steps.length - 1 ? extras : {},
        );
        if (r.kind !== 'applied') throw new Error(`could not move ${jobId} to ${phase}: ${r.kind}`);
      }
    },
    async addResult(jobId, id, data, mediaType) {
      const writer = createResultWriter(workDirs, jobId, async (result) => {
        const job = await store.get(jobId);
        if (!job) throw new Error('no job');
        const r = await store.update(jobId, { version: job.version }, { addResults: [result] });
        if (!r.ok) throw new Error('result race');
      });
      return writer.write(id, data, mediaType);
    },
  };
  return h;
}

/** fetch without following redirects. */
export function get(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { redirect: 'manual', ...init });
}

export function post(
  url: string,
  body: Record<string, string> | [string, string][] | FormData | string,
  init: RequestInit = {},
): Promise<Response> {
  const payload =
    body instanceof FormData || typeof body === 'string'
      ? body
      : new URLSearchParams(Array.isArray(body) ? body : Object.entries(body));
  return fetch(url, { method: 'POST', body: payload, redirect: 'manual', ...init });
}

/** Waits (polling, test-only) until `check` holds, within a generous bound. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
