import type { FastifyInstance } from 'fastify';
import type { UwsService } from '../service.js';
import { registerJobLogContext } from './job-log.js';
import { registerMetrics, type UwsMetrics } from './metrics.js';
import { type OpenApiOptions, registerOpenApi } from './openapi.js';

export { logJobRuns, registerJobLogContext } from './job-log.js';
export { type MetricsOptions, registerMetrics, UNMATCHED_ROUTE, UwsMetrics } from './metrics.js';
export { type OpenApiOptions, openApiDocument, registerOpenApi } from './openapi.js';

/**
 * Adds /metrics, /openapi.json and the job id on request log lines to a server
 * made by createHttpServer, before it listens. `metrics` should be the object
 * whose `jobFinished` the scheduler reports to.
 */
export function registerObservability(
  app: FastifyInstance,
  service: UwsService,
  metrics: UwsMetrics,
  options: OpenApiOptions = {},
): void {
  registerJobLogContext(app);
  registerMetrics(app, metrics);
  registerOpenApi(app, service.jobTypes.all(), options);
}
