import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import multipart from '@fastify/multipart';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { BadRequestError, NotFoundError } from '../core/errors.js';
import type { Job } from '../core/job.js';
import { ACTIVE_PHASES, isPhase, type Phase } from '../core/phases.js';
import { formatOptionalInstant, parseInstant } from '../core/time.js';
import type { JobType } from '../exec/job-type.js';
import { answerClientError, answerFrameworkError } from '../security/headers.js';
import { openJobFile } from '../security/job-files.js';
import { ANONYMOUS, type Caller, type StagedFile, type UwsService } from '../service.js';
import type { WebPages } from '../web/index.js';
import { discoveryDocument, discoveryHtml } from './discovery.js';
import { handleError, sendError, TEXT_MEDIA_TYPE } from './errors.js';
import {
  formPairs,
  queryParameters,
  type RequestInput,
  readInput,
  type Stager,
  singleValue,
  valuesOf,
} from './input.js';
import {
  JOBS_JSON_HEAD,
  JOBS_JSON_TAIL,
  JSON_MEDIA_TYPE,
  jobJson,
  jobrefJson,
  parametersJson,
  resultsJson,
} from './json.js';
import { listStream, startList } from './list-stream.js';
import { DOCUMENT_OFFERS, negotiate } from './negotiate.js';
import { inlineParameterValue, resultUrl } from './views.js';
import { type Availability, availabilityXml, capabilitiesXml } from './vosi.js';
import {
  JOBS_XML_HEAD,
  JOBS_XML_TAIL,
  jobrefXml,
  jobXml,
  parametersXml,
  resultsXml,
  XML_MEDIA_TYPE,
} from './xml.js';

export interface UploadLimits {
  /** Largest file part, in bytes (default 100 MiB). The stager may apply its own, lower limit. */
  readonly maxFileBytes?: number;
  /** Most file parts in one request (default 20). */
  readonly maxFiles?: number;
  /** Most non-file fields in one request (default 1000). */
  readonly maxFields?: number;
  /** Largest non-file field, in bytes (default 256 KiB: room for 50,000 characters of UTF-8). */
  readonly maxFieldBytes?: number;
}

export interface HttpServerOptions {
  readonly service: UwsService;
  /** Spools uploaded file parts to disk; see workDirStager. */
  readonly stage: Stager;
  /**
   * The external absolute URL of `basePath`, e.g. `https://example.org/uws`, used
   * for every Location and href. Without it they are built from the request's
   * Host (and X-Forwarded-Proto/Host when `trustProxy` is set).
   */
  readonly baseUrl?: string;
  /** Where the routes are mounted, e.g. `/uws` (default: the server root). */
  readonly basePath?: string;
  /** Fastify's trustProxy: whom to believe about X-Forwarded-*. Off by default. */
  readonly trustProxy?: boolean | string | string[];
  /** The longest a WAIT or a sync request blocks (WAIT-9), default 60 s. */
  readonly maxWaitSeconds?: number;
  /** Largest urlencoded body in bytes (default 1 MiB); larger gets 413. */
  readonly bodyLimit?: number;
  readonly uploads?: UploadLimits;
  /**
   * Who is asking (owner identification, auth/); default everyone is anonymous.
   * It may refuse by throwing a UwsError or an error with a 4xx `statusCode`
   * (setting e.g. WWW-Authenticate on `reply` first).
   */
  readonly identify?: (request: FastifyRequest, reply: FastifyReply) => Caller | Promise<Caller>;
  /** VOSI availability; default: available. */
  readonly availability?: () => Availability | Promise<Availability>;
  /** Fastify logger configuration (default: warnings and errors), or a ready logger. */
  readonly logger?: FastifyServerOptions['logger'];
  readonly loggerInstance?: FastifyBaseLogger;
  /**
   * Pages for browsers on the service root, job list and job URLs (src/web,
   * createWebPages), sent only when a browser asks; XML stays the default (UWS 2.2.2). None when not given.
   */
  readonly web?: WebPages;
}

const DEFAULT_MAX_WAIT_SECONDS = 60;
const DEFAULT_BODY_LIMIT = 1 << 20;
/** Every method a resource may be asked with; those it does not serve get 405 (checklist sec. 20). */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
type Method = (typeof METHODS)[number];
type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
const HOST = /^[A-Za-z0-9.\-_~]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/**
 * The UWS 1.1 REST interface over the service facade: per job type, the job list
 * `/{type}/async`, its whole tree, the sync facade and the VOSI siblings, plus
 * `GET /` to discover them. All state goes through `service`.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const service = options.service;
  const basePath = normaliseBasePath(options.basePath ?? '');
  const baseUrl = options.baseUrl?.replace(/\/+$/, '');
  if (baseUrl !== undefined && !/^https?:\/\/[^/\s]+/i.test(baseUrl)) {
    throw new Error(`baseUrl '${options.baseUrl}' is not an absolute http(s) URL`);
  }
  const maxWaitMs = Math.max(0, options.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS) * 1000;
  const identify = options.identify ?? (() => ANONYMOUS);
  const limits = options.uploads ?? {};
  const startedAt = service.now();
  const shutdown = new AbortController();
  // Every open request (WAITs above all) listens for shutdown: thousands at once are normal, not a leak.
  setMaxListeners(0, shutdown.signal);
  const web = options.web;

  const common = {
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    trustProxy: options.trustProxy ?? false,
    routerOptions: { maxParamLength: 1000 },
    // A URL Fastify cannot decode is refused before any hook: answer it like every other error.
    frameworkErrors: (
      err: { code?: string; statusCode?: number },
      _request: FastifyRequest,
      reply: FastifyReply,
    ) => answerFrameworkError(err, reply),
    // So do requests Node's HTTP parser refuses (unknown methods, heads over 16 KiB...).
    clientErrorHandler: answerClientError,
    // Node would refuse a request without Host with a bare 400 of its own; the routes that need it say so.
    http: { requireHostHeader: false },
  };
  const app: FastifyInstance = options.loggerInstance
    ? Fastify({ ...common, loggerInstance: options.loggerInstance })
    : Fastify({ ...common, logger: options.logger ?? { level: 'warn' } });

  // Only the two form encodings UWS and DALI use (JL-POST-5); anything else gets 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, formPairs(String(body)));
  });
  app.register(multipart, {
    limits: {
      fileSize: limits.maxFileBytes ?? 100 * (1 << 20),
      files: limits.maxFiles ?? 20,
      fields: limits.maxFields ?? 1000,
      fieldSize: limits.maxFieldBytes ?? 256 * 1024,
      fieldNameSize: 200,
      parts: (limits.maxFiles ?? 20) + (limits.maxFields ?? 1000),
    },
  });

  app.setErrorHandler((err, request, reply) => handleError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, `there is no resource at ${request.url.split('?')[0]?.slice(0, 200)}`),
  );
  // Open WAITs and sync requests end at once on shutdown instead of holding it up.
  app.addHook('preClose', (done) => {
    shutdown.abort();
    done();
  });
  // Answers finished during shutdown close their connection: it would otherwise
  // become idle only after Fastify closed the idle ones and hold close() up.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (shutdown.signal.aborted) reply.header('Connection', 'close');
    return payload;
  });

  const discard = (file: StagedFile) => service.files.discard(file.path);
  const input = (request: FastifyRequest, acceptFiles: boolean): Promise<RequestInput> =>
    readInput(request, { stage: options.stage, discard, acceptFiles });

  /** The absolute URL of basePath for this request (HTTP-14). */
  function rootUrl(request: FastifyRequest): string {
    if (baseUrl !== undefined) return baseUrl;
    const host = request.host;
    if (!host || !HOST.test(host)) throw new BadRequestError('the request has no valid Host header', 'Host');
    return `${request.protocol}://${host}${basePath}`;
  }

  /** Aborts when the client goes away (or the server shuts down), so a blocked request leaves nothing behind. */
  function disconnectSignal(reply: FastifyReply): AbortSignal {
    const controller = new AbortController();
    const onShutdown = () => controller.abort();
    if (shutdown.signal.aborted) controller.abort();
    else shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    reply.raw.once('close', () => {
      shutdown.signal.removeEventListener('abort', onShutdown);
      controller.abort();
    });
    return controller.signal;
  }

  function resource(url: string, handlers: Partial<Record<Method, Handler>>): void {
    const served = METHODS.filter((m) => handlers[m]);
    const allow = [...served, ...(handlers.GET ? ['HEAD'] : []), 'OPTIONS'].join(', ');
    for (const m of served) app.route({ method: m, url, handler: handlers[m]! });
    const refused: string[] = METHODS.filter((m) => !handlers[m]);
    if (!handlers.GET) refused.push('HEAD');
    app.route({
      method: refused,
      url,
      handler: async (request, reply) =>
        sendError(
          reply.header('Allow', allow),
          405,
          `${request.method} is not allowed on ${url.replace(/:(\w+)/g, '{$1}')}; allowed: ${allow}`,
        ),
    });
    app.route({
      method: 'OPTIONS',
      url,
      handler: async (_request, reply) => reply.header('Allow', allow).code(204).send(),
    });
  }

  web?.register(app, basePath);

  const root = basePath === '' ? '/' : basePath;
  resource(root, {
    GET: async (request, reply) => {
      const doc = discoveryDocument(service.jobTypes.all(), rootUrl(request));
      const format = negotiate(request, [
        ['json', ['application/json']],
        ['html', ['text/html', 'application/xhtml+xml']],
      ]);
      if (format === 'html' && web) {
        return web.sendServicePage(reply, { jobTypes: service.jobTypes.all(), rootUrl: rootUrl(request) });
      }
      if (format === 'html') return reply.type('text/html; charset=utf-8').send(discoveryHtml(doc));
      return reply.type(JSON_MEDIA_TYPE).send(JSON.stringify(doc, null, 2));
    },
  });

  for (const type of service.jobTypes.all()) {
    registerJobType(type);
  }

  function registerJobType(type: JobType): void {
    const t = type.name;
    const servicePath = `${basePath}/${t}`;
    const listPath = `${servicePath}/async`;
    const jobPath = `${listPath}/:jobId`;
    const serviceUrl = (request: FastifyRequest) => `${rootUrl(request)}/${t}`;
    const listUrl = (request: FastifyRequest) => `${serviceUrl(request)}/async`;
    const jobUrl = (request: FastifyRequest, jobId: string) =>
      `${listUrl(request)}/${encodeURIComponent(jobId)}`;
    const jobIdOf = (request: FastifyRequest) => (request.params as { jobId: string }).jobId;
    // Every handler asks for the caller first: a Host no URL can be built from is refused
    // there, before anything changes, not after (a created job answered with a 400).
    const caller = (request: FastifyRequest, reply: FastifyReply) => {
      rootUrl(request);
      return Promise.resolve(identify(request, reply));
    };
    const backToJob = (request: FastifyRequest, reply: FastifyReply, job: Job) =>
      redirect(reply, jobUrl(request, job.jobId));
    const readJob = async (request: FastifyRequest, reply: FastifyReply) =>
      service.getJob(jobIdOf(request), await caller(request, reply), t);

    function sendDocument(
      request: FastifyRequest,
      reply: FastifyReply,
      job: Job,
      xml: (job: Job, url: string) => string,
      json: (job: Job, url: string) => string,
    ) {
      const url = jobUrl(request, job.jobId);
      return negotiate(request, DOCUMENT_OFFERS) === 'json'
        ? reply.type(JSON_MEDIA_TYPE).send(json(job, url))
        : reply.type(XML_MEDIA_TYPE).send(xml(job, url));
    }

    // Job list (JL-GET-*, JL-POST-*).
    resource(listPath, {
      GET: async (request, reply) => {
        const query = queryParameters(request);
        const phases = [...new Set(valuesOf(query, 'PHASE').map((v) => parsePhase(v, 'PHASE')))];
        const afterText = singleValue(query, 'AFTER');
        const lastText = singleValue(query, 'LAST');
        const filter = {
          jobType: t,
          ...(phases.length > 0 ? { phases } : {}),
          ...(afterText !== undefined ? { after: parseInstant(afterText, 'AFTER') } : {}),
          ...(lastText !== undefined ? { last: parseLast(lastText) } : {}),
        };
        const who = await caller(request, reply);
        if (web?.wants(request)) {
          return web.sendJobList(reply, {
            service,
            caller: who,
            jobType: type,
            rootUrl: rootUrl(request),
            listUrl: listUrl(request),
            query,
          });
        }
        const started = await startList(service.listJobs(who, filter));
        const url = listUrl(request);
        if (request.method === 'HEAD') {
          await started.return?.();
          const type = negotiate(request, DOCUMENT_OFFERS) === 'json' ? JSON_MEDIA_TYPE : XML_MEDIA_TYPE;
          return reply.type(type).send(Readable.from([]));
        }
        if (negotiate(request, DOCUMENT_OFFERS) === 'json') {
          return reply.type(JSON_MEDIA_TYPE).send(
            listStream(started, {
              head: JOBS_JSON_HEAD,
              item: (s, i) => jobrefJson(s, url, i),
              tail: JOBS_JSON_TAIL,
            }),
          );
        }
        return reply
          .type(XML_MEDIA_TYPE)
          .send(
            listStream(started, { head: JOBS_XML_HEAD, item: (s) => jobrefXml(s, url), tail: JOBS_XML_TAIL }),
          );
      },
      POST: async (request, reply) => {
        const who = await caller(request, reply);
        const { parameters, files } = await input(request, true);
        const job = await service.createJob({ jobType: t, caller: who, parameters, files });
        return backToJob(request, reply, job);
      },
    });

    // The job (JOB-GET-*, WAIT-*, DEL-*, JOB-POST-1).
    resource(jobPath, {
      GET: async (request, reply) => {
        const query = queryParameters(request);
        const waitText = singleValue(query, 'WAIT');
        const who = await caller(request, reply);
        let job: Job;
        if (waitText === undefined) {
          job = await service.getJob(jobIdOf(request), who, t);
        } else {
          const seconds = parseWait(waitText);
          const phaseText = singleValue(query, 'PHASE');
          const phase = phaseText === undefined ? undefined : parsePhase(phaseText, 'PHASE');
          const timeoutMs = seconds < 0 ? maxWaitMs : Math.min(seconds * 1000, maxWaitMs);
          job = await service.waitForChange(jobIdOf(request), who, {
            timeoutMs,
            ...(phase !== undefined ? { phase } : {}),
            signal: disconnectSignal(reply),
            jobType: t,
          });
        }
        if (web?.wants(request)) {
          return web.sendJob(reply, {
            job,
            jobType: type,
            rootUrl: rootUrl(request),
            listUrl: listUrl(request),
            jobUrl: jobUrl(request, job.jobId),
          });
        }
        return sendDocument(request, reply, job, jobXml, jobJson);
      },
      DELETE: async (request, reply) => {
        await service.destroy(jobIdOf(request), await caller(request, reply), t);
        return redirect(reply, listUrl(request));
      },
      POST: async (request, reply) => {
        const who = await caller(request, reply);
        const { parameters } = await input(request, false);
        const action = singleValue(parameters, 'ACTION');
        if (action !== undefined && action.toUpperCase() === 'DELETE') {
          await service.destroy(jobIdOf(request), who, t);
          return redirect(reply, listUrl(request));
        }
        const job = await service.getJob(jobIdOf(request), who, t);
        if (action !== undefined) {
          throw new BadRequestError(
            `ACTION=${action.slice(0, 40)} is not supported; the only action is ACTION=DELETE`,
            'ACTION',
          );
        }
        const names = [...new Set(parameters.map((p) => p.name))].join(', ') || 'nothing';
        throw new BadRequestError(
          `the job URL accepts only ACTION=DELETE (got ${names.slice(0, 200)}); post parameters to ${jobUrl(request, job.jobId)}/parameters and PHASE to ${jobUrl(request, job.jobId)}/phase`,
          parameters[0]?.name,
        );
      },
    });

    // Atomic values (HTTP-6): text/plain, empty string where there is no value.
    const text = (reply: FastifyReply, value: string) => reply.type(TEXT_MEDIA_TYPE).send(value);

    resource(`${jobPath}/phase`, {
      GET: async (request, reply) => text(reply, (await readJob(request, reply)).phase),
      POST: async (request, reply) => {
        const who = await caller(request, reply);
        const { parameters } = await input(request, false);
        const value = singleValue(parameters, 'PHASE');
        if (value === undefined)
          throw new BadRequestError('PHASE is missing: post PHASE=RUN or PHASE=ABORT', 'PHASE');
        const verb = value.trim().toUpperCase();
        let job: Job;
        if (verb === 'RUN') job = await service.run(jobIdOf(request), who, t);
        else if (verb === 'ABORT') job = await service.abort(jobIdOf(request), who, t);
        else {
          throw new BadRequestError(
            `PHASE=${value.slice(0, 40)} is not allowed: post PHASE=RUN or PHASE=ABORT`,
            'PHASE',
          );
        }
        return backToJob(request, reply, job);
      },
    });

    resource(`${jobPath}/executionduration`, {
      GET: async (request, reply) => text(reply, String((await readJob(request, reply)).executionDuration)),
      POST: async (request, reply) => {
        const who = await caller(request, reply);
        const value = required((await input(request, false)).parameters, 'EXECUTIONDURATION');
        return backToJob(request, reply, await service.setExecutionDuration(jobIdOf(request), who, value, t));
      },
    });

    resource(`${jobPath}/destruction`, {
      GET: async (request, reply) =>
        text(reply, formatOptionalInstant((await readJob(request, reply)).destruction)),
      POST: async (request, reply) => {
        const who = await caller(request, reply);
        const value = required((await input(request, false)).parameters, 'DESTRUCTION');
        return backToJob(request, reply, await service.setDestruction(jobIdOf(request), who, value, t));
      },
    });

    resource(`${jobPath}/quote`, {
      GET: async (request, reply) =>
        text(reply, formatOptionalInstant((await readJob(request, reply)).quote)),
    });

    resource(`${jobPath}/owner`, {
      GET: async (request, reply) => text(reply, (await readJob(request, reply)).ownerId ?? ''),
    });

    resource(`${jobPath}/error`, {
      GET: async (request, reply) =>
        text(reply, await service.errorDetail(jobIdOf(request), await caller(request, reply), t)),
    });

    resource(`${jobPath}/results`, {
      GET: async (request, reply) =>
        sendDocument(request, reply, await readJob(request, reply), resultsXml, resultsJson),
    });

    resource(`${jobPath}/results/:resultId`, {
      GET: async (request, reply) => {
        const resultId = (request.params as { resultId: string }).resultId;
        const found = await service.result(jobIdOf(request), await caller(request, reply), resultId, t);
        if (found.path !== null) return sendFile(reply, found.path, found.result.mediaType);
        if (found.result.href) return redirect(reply, found.result.href);
        throw new NotFoundError(`result ${resultId.slice(0, 80)} has no content`);
      },
    });

    resource(`${jobPath}/parameters`, {
      GET: async (request, reply) =>
        sendDocument(request, reply, await readJob(request, reply), parametersXml, parametersJson),
      POST: async (request, reply) => {
        const who = await caller(request, reply);
        const { parameters, files } = await input(request, true);
        const job = await service.setParameters(jobIdOf(request), who, parameters, files, t);
        return backToJob(request, reply, job);
      },
    });

    // Uploaded content (PAR-7, AMB-19), or an inline value XML could not carry (PAR-2).
    resource(`${jobPath}/parameters/:name`, {
      GET: async (request, reply) => {
        const name = (request.params as { name: string }).name;
        const who = await caller(request, reply);
        try {
          const { parameter, path } = await service.parameterFile(jobIdOf(request), who, name, t);
          return await sendFile(reply, path, parameter.file?.mediaType ?? 'application/octet-stream');
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
        const indexText = singleValue(queryParameters(request), 'index') ?? '0';
        if (!/^\d{1,6}$/.test(indexText))
          throw new BadRequestError('index must be a small non-negative integer', 'index');
        const job = await service.getJob(jobIdOf(request), who, t);
        const value = inlineParameterValue(job, name, Number(indexText));
        if (value === undefined) {
          throw new NotFoundError(`job ${job.jobId} has no parameter ${name.slice(0, 80)}`);
        }
        return text(reply, value);
      },
    });

    // VOSI siblings (DALI-22..24).
    resource(`${servicePath}/capabilities`, {
      GET: async (request, reply) => reply.type(XML_MEDIA_TYPE).send(capabilitiesXml(serviceUrl(request))),
    });
    resource(`${servicePath}/availability`, {
      GET: async (_request, reply) => {
        const state = options.availability ? await options.availability() : { available: true };
        return reply.type(XML_MEDIA_TYPE).send(availabilityXml(state, startedAt));
      },
    });

    // Sync facade (SYNC-1, SYNC-2): create and run, then wait at /sync/{id}.
    const startSync: Handler = async (request, reply) => {
      // HEAD must not start a job, as GET would.
      if (request.method === 'HEAD') {
        return sendError(
          reply.header('Allow', 'GET, POST, OPTIONS'),
          405,
          'HEAD would start a job here; use GET or POST',
        );
      }
      const who = await caller(request, reply);
      const { parameters, files } =
        request.method === 'POST'
          ? await input(request, true)
          : { parameters: queryParameters(request), files: [] };
      const hasRun = valuesOf(parameters, 'PHASE').some((v) => v.toUpperCase() === 'RUN');
      const job = await service.createJob({
        jobType: t,
        caller: who,
        parameters: hasRun ? parameters : [...parameters, { name: 'PHASE', value: 'RUN' }],
        files,
      });
      return redirect(reply, `${serviceUrl(request)}/sync/${encodeURIComponent(job.jobId)}`);
    };
    resource(`${servicePath}/sync`, { GET: startSync, POST: startSync });

    resource(`${servicePath}/sync/:jobId`, {
      GET: async (request, reply) => {
        const who = await caller(request, reply);
        const jobId = jobIdOf(request);
        const signal = disconnectSignal(reply);
        const deadline = Date.now() + maxWaitMs;
        let job = await service.getJob(jobId, who, t);
        while (ACTIVE_PHASES.has(job.phase) && !signal.aborted && Date.now() < deadline) {
          job = await service.waitForChange(jobId, who, {
            timeoutMs: deadline - Date.now(),
            phase: job.phase,
            signal,
            jobType: t,
          });
        }
        const url = jobUrl(request, job.jobId);
        switch (job.phase) {
          case 'COMPLETED': {
            const main = job.results.find((r) => r.id === type.mainResult) ?? job.results[0];
            return redirect(reply, main ? resultUrl(url, main.id) : url);
          }
          case 'ERROR':
          case 'ABORTED':
            return redirect(reply, `${url}/error`);
          case 'ARCHIVED':
            return redirect(reply, url);
          default:
            // Still running (or HELD/SUSPENDED, which WAIT does not block on): come back.
            if (!ACTIVE_PHASES.has(job.phase)) {
              await sleep(Math.min(2000, Math.max(0, deadline - Date.now())), undefined, { signal }).catch(
                () => {},
              );
            }
            return redirect(reply, `${serviceUrl(request)}/sync/${encodeURIComponent(job.jobId)}`);
        }
      },
    });
  }

  return app;
}

/** 303 See Other with an absolute Location (HTTP-14, HTTP-15). */
function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('Location', location).type(TEXT_MEDIA_TYPE).send(`See ${location}\n`);
}

function required(parameters: RequestInput['parameters'], name: string): string {
  const value = singleValue(parameters, name);
  if (value === undefined) throw new BadRequestError(`${name} is missing`, name);
  return value;
}

/** Phase names in any case (AMB-7); anything else is a 400 naming the parameter. */
function parsePhase(text: string, parameter: string): Phase {
  const upper = text.trim().toUpperCase();
  if (!isPhase(upper)) {
    throw new BadRequestError(`${parameter}=${text.slice(0, 40)} is not a UWS phase`, parameter);
  }
  return upper;
}

/** LAST: an integer > 0 (JL-GET-8, AMB-8). */
function parseLast(text: string): number {
  const t = text.trim();
  if (!/^\+?\d{1,15}$/.test(t) || Number(t) < 1) {
    throw new BadRequestError(`LAST=${text.slice(0, 40)} is not an integer greater than 0`, 'LAST');
  }
  return Number(t);
}

/** WAIT: an integer number of seconds; negative means "as long as allowed" (WAIT-5, WAIT-6, AMB-5). */
function parseWait(text: string): number {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) {
    throw new BadRequestError(`WAIT=${text.slice(0, 40)} is not an integer number of seconds`, 'WAIT');
  }
  return Number(t);
}

/**
 * Streams a file of a job's directory with its Content-Type and Content-Length.
 * Links and anything but a regular file are not followed: those are 404s.
 */
async function sendFile(reply: FastifyReply, path: string, mediaType: string): Promise<FastifyReply> {
  // HEAD needs the length only; do not read the file for nothing.
  const headOnly = reply.request.method === 'HEAD';
  // Neither the file nor the job's directory may be a link (a job could have planted one).
  const { handle, size } = await openJobFile(path);
  try {
    reply.type(mediaType).header('Content-Length', String(size));
    if (headOnly) {
      await handle.close();
      // An empty stream: Fastify's HEAD handling keeps the Content-Length set above.
      return reply.send(Readable.from([]));
    }
    return reply.send(handle.createReadStream());
  } catch (err) {
    await handle.close();
    throw err;
  }
}

function normaliseBasePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed)) {
    throw new Error(`basePath '${path}' must start with / and hold only URL-safe characters`);
  }
  return trimmed;
}
