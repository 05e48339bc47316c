import type { FastifyInstance } from 'fastify';

/**
 * Every log line of a request about a job carries `jobId` as a field (issue 7):
 * the request's child logger gets it as soon as the route has matched, so the
 * error lines of the handlers and Fastify's "request completed" line have it.
 * Only Fastify's "incoming request" line, written before any hook, has the job
 * id in its URL alone.
 */
export function registerJobLogContext(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const jobId = (request.params as { jobId?: unknown } | undefined)?.jobId;
    if (typeof jobId !== 'string' || jobId === '') return;
    const log = request.log.child({ jobId: jobId.slice(0, 64) });
    request.log = log;
    reply.log = log;
  });
}
