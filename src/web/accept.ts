import { type AcceptEntry, matchAccept, parseAccept } from '../http/negotiate.js';

/**
 * Whether a client wants a page rather than a UWS document. UWS 1.1 sec. 2.2.2:
 * XML in preference to HTML for programs, HTML allowed for browsers. Ranking by
 * q alone is not enough: Java's HttpURLConnection (STIL, TOPCAT) sends
 * `text/html, image/gif, image/jpeg, *; q=.2` and every other type at q=.2,
 * which ranks HTML first though it reads XML. So a page goes only to a client that names HTML and
 * either names an XML type itself, ranked lower (every browser's
 * `text/html,application/xhtml+xml,application/xml;q=0.9,...`), or cannot take
 * XML at all; and that ranks HTML above JSON too.
 */

type Range = AcceptEntry;

/** The q of the most specific range matching `mediaType`, and whether that range named it exactly. */
function rank(ranges: readonly Range[], mediaType: string): { q: number; explicit: boolean } {
  const { q, specificity } = matchAccept(ranges, mediaType);
  return { q: Math.max(0, q), explicit: specificity === 2 };
}

const HTML_TYPES = ['text/html', 'application/xhtml+xml'];
const XML_TYPES = ['application/xml', 'text/xml'];

function best(ranges: readonly Range[], types: readonly string[]): { q: number; explicit: boolean } {
  return types
    .map((t) => rank(ranges, t))
    .reduce((a, b) => (b.q > a.q || (b.q === a.q && b.explicit && !a.explicit) ? b : a));
}

export function acceptPrefersHtml(header: string | undefined): boolean {
  if (!header) return false;
  const ranges = parseAccept(header);
  const html = best(ranges, HTML_TYPES);
  if (!html.explicit || html.q <= 0) return false;
  const xml = best(ranges, XML_TYPES);
  const json = rank(ranges, 'application/json');
  const xmlOk = xml.q <= 0 || (xml.explicit && html.q > xml.q);
  return xmlOk && html.q > json.q;
}
