import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitedError, type UwsError, type UwsErrorKind } from '../core/errors.js';
import { faultId, isUwsError } from '../service.js';

export const TEXT_MEDIA_TYPE = 'text/plain; charset=utf-8';

/** One HTTP status per kind of service failure (checklist sec. 20). */
const STATUS: Record<UwsErrorKind, number> = {
  BadRequest: 400,
  NotFound: 404,
  Forbidden: 403,
  // HTTP-3: a request illegal in the job's current phase.
  NotAllowedInPhase: 403,
  PayloadTooLarge: 413,
  RateLimited: 429,
  Unavailable: 503,
};

export function statusOf(err: UwsError): number {
  return STATUS[err.kind];
}

/** Sends a text/plain error document whose text says what was wrong (DALI-15). */
export function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type(TEXT_MEDIA_TYPE).send(`${message}\n`);
}

interface FastifyLikeError {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
}

/**
 * The one error handler: service errors and Fastify's own client errors (bad
 * bodies, 413, 415) keep their status; anything else is a fault of ours, logged
 * with an id that the 500 answer repeats so that a report can be matched to it.
 */
export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isUwsError(err)) {
    if (err instanceof RateLimitedError) reply.header('Retry-After', String(err.retryAfterSeconds));
    return sendError(reply, statusOf(err), err.message);
  }
  const e = (err ?? {}) as FastifyLikeError;
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    return sendError(reply, status, clientMessage(e, status, request));
  }
  const id = faultId();
  request.log.error({ err, faultId: id, url: request.url, method: request.method }, 'request failed');
  return sendError(reply, 500, `internal error (fault id ${id}); the service log has the details`);
}

function clientMessage(e: FastifyLikeError, status: number, request: FastifyRequest): string {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `the request body is larger than this service accepts (at most ${request.routeOptions.bodyLimit} bytes)`;
    case 'FST_REQ_FILE_TOO_LARGE':
      return 'an uploaded file is larger than this service accepts';
    case 'FST_FILES_LIMIT':
      return 'the request has more files than this service accepts';
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return 'the request has more form fields than this service accepts';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported Content-Type: send application/x-www-form-urlencoded or multipart/form-data';
    default:
      return e.message || `request failed with status ${status}`;
  }
}
