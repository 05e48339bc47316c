import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Job } from '../core/job.js';
import { PHASES } from '../core/phases.js';
import type { ExecutionOutcome } from '../exec/types.js';
import type { UwsService } from '../service.js';
import type { PhaseCounts } from '../store/types.js';

export interface MetricsOptions {
  /** How long a reading of the job counts is reused, so that frequent scrapes stay cheap. Default 2 s. */
  readonly countsCacheMs?: number;
  /** Node.js process metrics (memory, event loop lag, CPU) as prom-client collects them. Default true. */
  readonly processMetrics?: boolean;
  readonly now?: () => number;
}

/** What the metrics read at scrape time; set by `attach` once the service exists. */
interface Sources {
  readonly service: UwsService;
  /** Jobs this node runs now. */
  readonly running?: () => number;
}

/** Up to a minute: the blocking WAIT and sync requests last that long on purpose. */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Jobs last from milliseconds to hours. */
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];
/** The route label of requests that matched no route, so that random URLs cannot create new series. */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * The Prometheus metrics of a UWS node (issue 7): jobs by type and phase, the
 * wait before and the length of each run, HTTP latency by route and status, and
 * open WAITs. Job counts are read from the store at scrape time, over all owners
 * and nodes, and cached briefly; the histograms count what this node saw.
 */
export class UwsMetrics {
  readonly registry: Registry;
  private sources: Sources | null = null;
  private readonly countsCacheMs: number;
  private readonly now: () => number;
  private counts: { at: number; value: Promise<Map<string, PhaseCounts>> } | null = null;
  private readonly queueWait: Histogram<'job_type'>;
  private readonly runTime: Histogram<'job_type' | 'outcome'>;
  private readonly http: Histogram<'method' | 'route' | 'status_code'>;

  constructor(options: MetricsOptions = {}) {
    this.registry = new Registry();
    this.countsCacheMs = options.countsCacheMs ?? 2000;
    this.now = options.now ?? Date.now;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const metrics = this;

    new Gauge({
      name: 'uws_jobs',
      help: 'Jobs in the store by job type and phase, over all owners and nodes (ARCHIVED included)',
      labelNames: ['job_type', 'phase'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const counts = await metrics.jobCounts();
        for (const [type, byPhase] of counts) {
          for (const phase of PHASES) this.set({ job_type: type, phase }, byPhase[phase] ?? 0);
        }
      },
    });
    new Gauge({
      name: 'uws_open_waits',
      help: 'Blocking WAIT and sync requests waiting for a job to change on this node',
      registers: [this.registry],
      collect() {
        this.set(metrics.sources?.service.openWaits() ?? 0);
      },
    });
    new Gauge({
      name: 'uws_node_running_jobs',
      help: 'Jobs this node is running now',
      registers: [this.registry],
      collect() {
        this.set(metrics.sources?.running?.() ?? 0);
      },
    });
    this.queueWait = new Histogram({
      name: 'uws_job_queue_wait_seconds',
      help: 'Seconds from the creation of a job to the start of its run on this node (time PENDING before PHASE=RUN included)',
      labelNames: ['job_type'] as const,
      buckets: JOB_BUCKETS,
      registers: [this.registry],
    });
    this.runTime = new Histogram({
      name: 'uws_job_run_seconds',
      help: 'Seconds a run of a job took on this node, by how the work ended (completed, error, aborted)',
      labelNames: ['job_type', 'outcome'] as const,
      buckets: JOB_BUCKETS,
      registers: [this.registry],
    });
    this.http = new Histogram({
      name: 'uws_http_request_duration_seconds',
      help: 'Seconds from receiving an HTTP request to sending its answer, by route pattern and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: HTTP_BUCKETS,
      registers: [this.registry],
    });
  }

  /** Where job counts and open WAITs come from; call once the service is made. */
  attach(service: UwsService, running?: () => number): this {
    this.sources = { service, ...(running ? { running } : {}) };
    this.counts = null;
    return this;
  }

  /** The Scheduler's onFinished observer. */
  readonly jobFinished = (job: Job, outcome: ExecutionOutcome, queuedMs: number, runMs: number): void => {
    this.queueWait.observe({ job_type: job.jobType }, Math.max(0, queuedMs) / 1000);
    this.runTime.observe({ job_type: job.jobType, outcome: outcome.status }, Math.max(0, runMs) / 1000);
  };

  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.http.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Counts per job type, read once per cache period however many scrapes come. */
  private jobCounts(): Promise<Map<string, PhaseCounts>> {
    const sources = this.sources;
    if (!sources) return Promise.resolve(new Map());
    const now = this.now();
    if (this.counts && now - this.counts.at < this.countsCacheMs) return this.counts.value;
    const value = (async () => {
      const out = new Map<string, PhaseCounts>();
      for (const type of sources.service.jobTypes.all()) {
        out.set(type.name, await sources.service.store.countByPhase({ jobType: type.name }));
      }
      return out;
    })();
    this.counts = { at: now, value };
    // A failed reading is not kept: the next scrape tries again.
    value.catch(() => {
      if (this.counts?.value === value) this.counts = null;
    });
    return value;
  }
}

/**
 * Serves `path` (default /metrics) and times every request by its route pattern
 * (`/catalogue/async/:jobId`, never the raw URL, so the series stay few).
 */
export function registerMetrics(app: FastifyInstance, metrics: UwsMetrics, path = '/metrics'): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get(path, async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).header('Cache-Control', 'no-store').send(body);
  });
}
