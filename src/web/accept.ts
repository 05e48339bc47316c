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

interface Range {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

function parse(header: string): Range[] {
  const out: Range[] = [];
  for (const part of header.split(',')) {
    const [range = '', ...params] = part.trim().split(';');
    const [type = '', subtype = ''] = range.trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q' && v !== undefined) {
        const n = Number(v.trim());
        if (Number.isFinite(n)) q = Math.min(1, Math.max(0, n));
      }
    }
    out.push({ type, subtype, q });
  }
  return out;
}

/** The q of the most specific range matching `mediaType`, and whether that range named it exactly. */
function rank(ranges: readonly Range[], mediaType: string): { q: number; explicit: boolean } {
  const [type, subtype] = mediaType.split('/');
  let best = { q: 0, explicit: false };
  let specificity = -1;
  for (const r of ranges) {
    let s = -1;
    if (r.type === type && r.subtype === subtype) s = 2;
    else if (r.type === type && r.subtype === '*') s = 1;
    else if (r.type === '*' && r.subtype === '*') s = 0;
    if (s > specificity) {
      specificity = s;
      best = { q: r.q, explicit: s === 2 };
    }
  }
  return best;
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
  const ranges = parse(header);
  const html = best(ranges, HTML_TYPES);
  if (!html.explicit || html.q <= 0) return false;
  const xml = best(ranges, XML_TYPES);
  const json = rank(ranges, 'application/json');
  const xmlOk = xml.q <= 0 || (xml.explicit && html.q > xml.q);
  return xmlOk && html.q > json.q;
}
