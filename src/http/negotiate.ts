import type { FastifyRequest } from 'fastify';

export interface AcceptEntry {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

export function parseAccept(header: string | undefined): AcceptEntry[] {
  if (!header) return [];
  const out: AcceptEntry[] = [];
  for (const part of header.split(',')) {
    const [range = '', ...params] = part.trim().split(';');
    const [type = '', subtype = ''] = range.trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k?.trim().toLowerCase() === 'q' && v !== undefined) {
        const n = Number(v.trim());
        if (Number.isFinite(n)) q = Math.min(1, Math.max(0, n));
      }
    }
    out.push({ type, subtype, q });
  }
  return out;
}

/**
 * The most specific range matching `mediaType` (2 exact, 1 type/*, 0 for any) and
 * the quality it gives; specificity and q are -1 when no range matches.
 */
export function matchAccept(
  entries: readonly AcceptEntry[],
  mediaType: string,
): { q: number; specificity: number } {
  const [type, subtype] = mediaType.split('/');
  let q = -1;
  let specificity = -1;
  for (const e of entries) {
    let s = -1;
    if (e.type === type && e.subtype === subtype) s = 2;
    else if (e.type === type && e.subtype === '*') s = 1;
    else if (e.type === '*' && e.subtype === '*') s = 0;
    if (s > specificity) {
      specificity = s;
      q = e.q;
    }
  }
  return { q, specificity };
}

function quality(entries: readonly AcceptEntry[], mediaType: string): number {
  return matchAccept(entries, mediaType).q;
}

/**
 * Picks the representation to send. `offers` are in the server's order of
 * preference, each a name with the media types that stand for it; the first
 * offer is the default, kept on ties and when the client states nothing useful
 * (HTTP-8: programmatic clients get XML).
 */
export function negotiate<T extends string>(
  request: FastifyRequest,
  offers: readonly (readonly [T, readonly string[]])[],
): T {
  const entries = parseAccept(request.headers.accept);
  let chosen = offers[0]![0];
  let best = -1;
  for (const [name, types] of offers) {
    const q = Math.max(...types.map((t) => quality(entries, t)));
    if (q > best && q > 0) {
      best = q;
      chosen = name;
    }
  }
  return chosen;
}

export const DOCUMENT_OFFERS = [
  ['xml', ['text/xml', 'application/xml']],
  ['json', ['application/json']],
] as const;
