import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Authenticator, createAuthenticator } from '../auth/authenticator.js';
import { UnauthorizedError } from '../auth/errors.js';
import { RateLimitedError } from '../core/errors.js';
import { ConcurrencyLimiter, RateLimiter } from '../limits/token-bucket.js';
import type { Caller } from '../service.js';
import { installSecurityHeaders } from './headers.js';

export interface HttpGuardOptions {
  readonly authenticator?: Authenticator;
  /** Job-creating requests per owner per minute (0: no limit). */
  readonly jobsPerMinute?: number;
  readonly jobsBurst?: number;
  /** Blocking WAITs open at once per owner on this node (0: no limit). */
  readonly maxWaitsPerOwner?: number;
  /**
   * Refused credentials per client address per minute (0: no limit). Past it,
   * requests with credentials get 429 without being checked: bcrypt and argon2
   * are slow on purpose, and guessing must not cost the service its CPU.
   */
  readonly authFailuresPerMinute?: number;
}

export interface HttpGuard {
  /** For createHttpServer's `identify` option: the caller the guard found for the request. */
  identify(request: FastifyRequest, reply: FastifyReply): Promise<Caller>;
  /** Registers the hooks on the server (before it listens). */
  install(app: FastifyInstance): void;
  readonly waits: ConcurrencyLimiter | null;
}

/**
 * What runs before any route: owner identification (so a request with wrong or
 * missing credentials is refused before its body is read), the per-owner rate
 * of job creation (429 with Retry-After) and the per-owner number of open
 * WAITs (429), plus the security headers on every response. Limits are kept in
 * this process's memory: with several nodes each applies them on its own.
 */
export function createHttpGuard(options: HttpGuardOptions = {}): HttpGuard {
  const authenticator = options.authenticator ?? createAuthenticator();
  const callers = new WeakMap<FastifyRequest, Caller>();
  const perMinute = options.jobsPerMinute ?? 0;
  const creations =
    perMinute > 0
      ? new RateLimiter(perMinute, options.jobsBurst ?? Math.max(1, Math.floor(perMinute / 2)))
      : null;
  const waits =
    (options.maxWaitsPerOwner ?? 0) > 0 ? new ConcurrencyLimiter(options.maxWaitsPerOwner!) : null;
  const failuresPerMinute = options.authFailuresPerMinute ?? 0;
  const failures = failuresPerMinute > 0 ? new RateLimiter(failuresPerMinute, failuresPerMinute) : null;

  async function identify(request: FastifyRequest, reply: FastifyReply): Promise<Caller> {
    const known = callers.get(request);
    if (known) return known;
    const client = `client:${request.ip}`;
    if (failures && hasCredentials(request)) {
      const retryAfter = failures.peek(client);
      if (retryAfter > 0) {
        throw new RateLimitedError(
          `too many refused credentials from this address: the limit (limits.authFailuresPerMinute) is ${failuresPerMinute} a minute; try again in ${retryAfter} s`,
          retryAfter,
        );
      }
    }
    try {
      const caller = await authenticator.identify(
        { headers: request.headers, remoteAddress: request.raw.socket?.remoteAddress },
        { publicResource: isPublic(request) },
      );
      callers.set(request, caller);
      return caller;
    } catch (err) {
      if (err instanceof UnauthorizedError && hasCredentials(request)) failures?.take(client);
      if (err instanceof UnauthorizedError && err.challenges.length > 0) {
        reply.header(
          'WWW-Authenticate',
          err.challenges.length === 1 ? err.challenges[0] : [...err.challenges],
        );
      }
      throw err;
    }
  }

  /** Whom per-owner limits count against: the owner, or for anonymous callers their address. */
  function limitKey(request: FastifyRequest, caller: Caller): string {
    return caller.ownerId !== null ? `owner:${caller.ownerId}` : `client:${request.ip}`;
  }

  return {
    identify,
    waits,
    install(app) {
      installSecurityHeaders(app);
      app.addHook('onRequest', async (request, reply) => {
        const caller = await identify(request, reply);
        if (creations && createsJob(request)) {
          const retryAfter = creations.take(limitKey(request, caller));
          if (retryAfter > 0) {
            throw new RateLimitedError(
              `too many jobs created: the limit (limits.jobsPerMinute) is ${perMinute} a minute; try again in ${retryAfter} s`,
              retryAfter,
            );
          }
        }
        if (waits && blocks(request)) {
          const release = waits.acquire(limitKey(request, caller));
          if (!release) {
            throw new RateLimitedError(
              `too many blocking requests open: the limit (limits.maxWaitsPerOwner) is ${options.maxWaitsPerOwner} at once`,
              1,
            );
          }
          reply.raw.once('close', release);
          reply.raw.once('finish', release);
        }
      });
    },
  };
}

/** Whether the request offers credentials that are checked (anonymous requests are never throttled here). */
function hasCredentials(request: FastifyRequest): boolean {
  return request.headers.authorization !== undefined;
}

function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? '';
}

/**
 * What stays open when anonymous access is refused: the discovery page, VOSI
 * (registries poll capabilities and availability) and the API description.
 * Not /metrics, nor anything of a job.
 */
export function isPublicRoute(route: string): boolean {
  return route === '/' || /\/(capabilities|availability|openapi\.json)$/.test(route);
}

function isPublic(request: FastifyRequest): boolean {
  return isPublicRoute(routeOf(request));
}

/** POST to a job list, or the sync facade's start (GET or POST). */
function createsJob(request: FastifyRequest): boolean {
  const route = routeOf(request);
  if (request.method === 'POST' && route.endsWith('/async')) return true;
  return (request.method === 'POST' || request.method === 'GET') && route.endsWith('/sync');
}

/** A job GET with WAIT, or the sync facade's wait for its job. */
function blocks(request: FastifyRequest): boolean {
  if (request.method !== 'GET') return false;
  const route = routeOf(request);
  if (route.endsWith('/sync/:jobId')) return true;
  if (!route.endsWith('/async/:jobId')) return false;
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  if (q < 0) return false;
  for (const name of new URLSearchParams(url.slice(q + 1)).keys())
    if (name.toLowerCase() === 'wait') return true;
  return false;
}
