import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Sent with every response: no MIME sniffing, no referrer leaking job URLs, no framing. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/**
 * HTML pages (discovery, the web pages) may load their own stylesheet and
 * script and post forms to this service, nothing inline and nothing from
 * elsewhere. Everything else this service sends is data (XML, JSON, text,
 * results) that a browser must never run as a page.
 */
export const HTML_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
export const DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

/** Sets the security headers on one reply; the CSP follows its Content-Type unless the route set its own. */
export function applySecurityHeaders(reply: FastifyReply): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
  // A route that sets its own (stricter) policy keeps it.
  if (!reply.hasHeader('content-security-policy')) {
    const type = String(reply.getHeader('content-type') ?? '');
    reply.header(
      'Content-Security-Policy',
      /^(text\/html|application\/xhtml\+xml)\b/i.test(type) ? HTML_CSP : DATA_CSP,
    );
  }
}

/** Adds the security headers to every response the app sends, errors and 404s included. */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    applySecurityHeaders(reply);
    return payload;
  });
}

/**
 * Fastify answers a request it cannot route (a URL whose percent-escapes are
 * not UTF-8) before any hook runs, with a JSON body of its own. This gives it
 * the service's form instead: text/plain, a message that says what was wrong,
 * the security headers. For Fastify's `frameworkErrors` option.
 */
export function answerFrameworkError(
  err: { readonly code?: string; readonly statusCode?: number },
  reply: FastifyReply,
): void {
  const status =
    typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500
      ? err.statusCode
      : 400;
  reply.code(status).type('text/plain; charset=utf-8');
  applySecurityHeaders(reply);
  reply.send(
    err.code === 'FST_ERR_BAD_URL'
      ? 'the URL is not valid: it has a percent-escape that does not decode to UTF-8\n'
      : 'the request cannot be routed\n',
  );
}

/**
 * Node's HTTP parser refuses malformed requests (unknown methods, bad
 * characters, heads over 16 KiB, smuggling attempts) before Fastify sees
 * them. Answers them as Fastify's default does, but in the service's form:
 * text/plain and the security headers. For Fastify's `clientErrorHandler` option.
 */
export function answerClientError(err: Error & { readonly code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'the request head is larger than this service accepts']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request took too long to arrive']
        : [400, 'the request is not valid HTTP/1.1'];
  const body = `${message}\n`;
  const headers = {
    ...SECURITY_HEADERS,
    'Content-Security-Policy': DATA_CSP,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  if (socket.writable) {
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('')}\r\n${body}`);
  }
  socket.destroy(err);
}
