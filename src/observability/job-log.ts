import type { FastifyInstance } from 'fastify';
import type { Job } from '../core/job.js';
import type { ExecutionOutcome } from '../exec/types.js';

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

interface InfoLogger {
  info(obj: object, msg: string): void;
}

/**
 * A Scheduler onFinished observer that writes one line per ended run, with the
 * job id, type, how the work ended and how long it waited and ran: the
 * scheduler itself logs only trouble (lost leases, orphans, bookkeeping faults).
 */
export function logJobRuns(
  log: InfoLogger,
): (job: Job, outcome: ExecutionOutcome, queuedMs: number, runMs: number) => void {
  return (job, outcome, queuedMs, runMs) => {
    log.info(
      {
        jobId: job.jobId,
        jobType: job.jobType,
        ownerId: job.ownerId,
        outcome: outcome.status,
        ...(outcome.status === 'error' ? { error: outcome.summary.message } : {}),
        ...(outcome.status === 'aborted' ? { reason: outcome.reason } : {}),
        queuedMs,
        runMs,
      },
      'job run ended',
    );
  };
}
