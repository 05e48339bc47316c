import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JobSummary } from '../core/job.js';
import type { JobType } from '../exec/job-type.js';
import type { Caller, RawParameter, UwsService } from '../service.js';
import { acceptPrefersHtml } from './accept.js';
import { STATIC_FILES } from './assets.js';
import { listFilter, parseJobListQuery, renderJobListPage } from './job-list-page.js';
import { type JobPageInput, renderJobPage } from './job-page.js';
import { renderServicePage, type ServicePageInput } from './service-page.js';

export { acceptPrefersHtml } from './accept.js';
export { renderCreateForm } from './forms.js';
export { escapeHtml, Html, html, trusted } from './html.js';
export { renderJobListPage } from './job-list-page.js';
export { renderJobPage } from './job-page.js';
export { renderServicePage } from './service-page.js';

/** What the HTTP layer hands over for a job list page. */
export interface JobListRequest {
  readonly service: UwsService;
  readonly caller: Caller;
  readonly jobType: JobType;
  /** The absolute URL of the service root (where /static/ is). */
  readonly rootUrl: string;
  readonly listUrl: string;
  /** The query string as ordered pairs (PHASE, AFTER, LAST, BEFORE). */
  readonly query: readonly RawParameter[];
}

/**
 * The web pages as the HTTP layer uses them: on the job list and job URLs, a
 * client that prefers HTML (a browser) gets a page; everyone else keeps XML or
 * JSON. `register` adds the /static/ files the pages load.
 */
export interface WebPages {
  /** A browser asks: it names HTML above XML and JSON (UWS 2.2.2: XML stays the default). */
  wants(request: FastifyRequest): boolean;
  sendJobList(reply: FastifyReply, input: JobListRequest): Promise<FastifyReply>;
  sendJob(reply: FastifyReply, input: JobPageInput): FastifyReply;
  /** The service root for a person: the job types, each with a link to its jobs and create form. */
  sendServicePage(reply: FastifyReply, input: ServicePageInput): FastifyReply;
  /** Serves /static/uws.js and /static/uws.css under `basePath`. */
  register(app: FastifyInstance, basePath: string): void;
}

/**
 * No inline script or style anywhere, so this holds: only this origin's script,
 * style, fetches (the WAIT loop) and form targets.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** A browser asking (see accept.ts for why q values alone do not decide). */
export function prefersHtml(request: FastifyRequest): boolean {
  return acceptPrefersHtml(request.headers.accept);
}

/** Sends a page with the headers every page has. */
export function sendPage(reply: FastifyReply, body: string): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('Vary', 'Accept')
    .header('Cache-Control', 'no-store')
    .header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'same-origin')
    .send(body);
}

/** Reads one page of the job list as the caller may see it (the same rules as the XML list). */
export async function loadJobListPage(input: JobListRequest): Promise<string> {
  const query = parseJobListQuery(input.query);
  const { filter, limit } = listFilter(input.jobType.name, query);
  const jobs: JobSummary[] = [];
  let more = false;
  for await (const summary of input.service.listJobs(input.caller, filter)) {
    if (jobs.length === limit - (query.last === undefined ? 1 : 0)) {
      more = query.last === undefined;
      break;
    }
    jobs.push(summary);
  }
  return renderJobListPage({
    jobType: input.jobType,
    rootUrl: input.rootUrl,
    listUrl: input.listUrl,
    query,
    jobs,
    more,
  });
}

/** Serves the static files under `basePath`/static/, cached for a year (their URLs carry a content hash). */
export function registerStaticFiles(app: FastifyInstance, basePath: string): void {
  for (const [name, file] of Object.entries(STATIC_FILES)) {
    app.get(`${basePath}/static/${name}`, async (_request, reply) =>
      reply
        .type(file.type)
        .header('Cache-Control', 'public, max-age=31536000, immutable')
        .header('X-Content-Type-Options', 'nosniff')
        .header('ETag', `"${file.version}"`)
        .send(file.body),
    );
  }
}

export function createWebPages(): WebPages {
  return {
    wants: prefersHtml,
    sendJobList: async (reply, input) => sendPage(reply, await loadJobListPage(input)),
    sendJob: (reply, input) => sendPage(reply, renderJobPage(input)),
    sendServicePage: (reply, input) => sendPage(reply, renderServicePage(input)),
    register: registerStaticFiles,
  };
}
