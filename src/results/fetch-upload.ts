import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BadRequestError, PayloadTooLargeError } from '../core/errors.js';
import type { WorkDirs } from './workdirs.js';

export interface FetchUploadOptions {
  /** Largest accepted file, in bytes. */
  readonly limitBytes: number;
  /** The whole fetch, redirects and body included, must end within this time. */
  readonly timeoutMs: number;
  /** Default 5. */
  readonly maxRedirects?: number;
  /**
   * Whether a URL may be fetched, asked for the first URL and every redirect
   * target. A public service should refuse its own internal network here (SSRF).
   */
  readonly allowUrl?: (url: URL) => boolean;
  readonly signal?: AbortSignal;
}

/** A fetched file, spooled to the staging directory (the shape of the service's StagedFile). */
export interface FetchedUpload {
  /** The parameter it was fetched for. */
  readonly partName: string;
  readonly path: string;
  readonly size: number;
  readonly mediaType?: string;
}

export const DEFAULT_MAX_REDIRECTS = 5;

/**
 * Fetches an http(s) URL given by reference (a DALI UPLOAD or a file parameter)
 * into a staged file of `workDirs`, within a byte limit and a time limit.
 * Every failure is a BadRequestError that names `parameter` and says what went wrong.
 */
export async function fetchUpload(
  workDirs: WorkDirs,
  url: string,
  parameter: string,
  options: FetchUploadOptions,
): Promise<FetchedUpload> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const bad = (message: string) => new BadRequestError(`parameter ${parameter}: ${message}`, parameter);
  let current = httpUrl(url, bad);
  const fail = (e: unknown): BadRequestError => {
    if (e instanceof BadRequestError) return e;
    if (timeout.aborted) return bad(`fetching ${shown(current)} took longer than ${options.timeoutMs} ms`);
    if (e instanceof PayloadTooLargeError) {
      return bad(`the file at ${shown(current)} is larger than the limit of ${options.limitBytes} bytes`);
    }
    return bad(`could not fetch ${shown(current)}: ${reason(e)}`);
  };

  try {
    for (let redirects = 0; ; redirects++) {
      if (options.allowUrl && !options.allowUrl(current)) {
        throw bad(`fetching ${shown(current)} is not allowed by this service`);
      }
      const response = await fetch(current, { redirect: 'manual', signal });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel();
        if (redirects >= maxRedirects) throw bad(`${shown(url)} redirects more than ${maxRedirects} times`);
        current = httpUrl(new URL(location, current).href, bad);
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw bad(`fetching ${shown(current)} failed with HTTP status ${response.status}`);
      }
      const declared = Number(response.headers.get('content-length') ?? Number.NaN);
      if (declared > options.limitBytes) {
        await response.body?.cancel();
        throw new PayloadTooLargeError('declared length over the limit');
      }
      const body = response.body
        ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)
        : Readable.from([]);
      const staged = await workDirs.stageUpload(body, options.limitBytes, signal);
      const mediaType = response.headers.get('content-type');
      return {
        partName: parameter,
        path: staged.path,
        size: staged.size,
        ...(mediaType ? { mediaType } : {}),
      };
    }
  } catch (e) {
    throw fail(e);
  }
}

/** The `(url, parameter)` fetcher the service takes for by-reference uploads. */
export function createRemoteFetcher(
  workDirs: WorkDirs,
  options: FetchUploadOptions,
): (url: string, parameter: string) => Promise<FetchedUpload> {
  return (url, parameter) => fetchUpload(workDirs, url, parameter, options);
}

function httpUrl(text: string, bad: (message: string) => BadRequestError): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(`'${text.slice(0, 80)}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw bad(`only http and https URLs can be fetched, not ${url.protocol.slice(0, 20)}`);
  }
  return url;
}

/** A URL fit for an error message: no credentials, no query, bounded length. */
function shown(url: URL | string): string {
  try {
    const u = new URL(url);
    const text = `${u.protocol}//${u.host}${u.pathname}`;
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return String(url).slice(0, 80);
  }
}

function reason(e: unknown): string {
  const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return e instanceof Error ? e.message : String(e);
}
