import type { FastifyInstance } from 'fastify';

/** Sent with every response: no MIME sniffing, no referrer leaking job URLs, no framing. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/**
 * The discovery page has forms that post to the service and nothing else: no
 * scripts, styles or images of its own. Everything else this service sends is
 * data (XML, JSON, text, results) that a browser must never run as a page.
 */
export const HTML_CSP = "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
export const DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

/** Adds the security headers to every response the app sends, errors and 404s included. */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    const type = String(reply.getHeader('content-type') ?? '');
    reply.header('Content-Security-Policy', /^text\/html\b/i.test(type) ? HTML_CSP : DATA_CSP);
    return payload;
  });
}
