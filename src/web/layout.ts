import { staticUrl } from './assets.js';
import { type Html, html } from './html.js';

export interface PageShell {
  /** The document title (text). */
  readonly title: string;
  /** The absolute URL of the service root, where /static/ lives. */
  readonly rootUrl: string;
  /** Breadcrumb links before the page's own title: [text, href]. */
  readonly trail?: readonly (readonly [string, string])[];
  /** Attributes of <main> (the job page's data-job-url and data-phase). */
  readonly mainAttributes?: Html;
  readonly body: Html;
}

/**
 * The frame every page shares: a skip link, the breadcrumb navigation, one
 * <main>, the stylesheet and the deferred script. Polyglot markup (every element
 * closed, every attribute quoted), so that tests can parse pages as XML.
 */
export function page(shell: PageShell): string {
  const trail = shell.trail ?? [];
  return `<!DOCTYPE html>\n${html`<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>${shell.title}</title>
<link rel="stylesheet" href="${staticUrl(shell.rootUrl, 'uws.css')}" />
<link rel="icon" type="image/svg+xml" href="${staticUrl(shell.rootUrl, 'favicon.svg')}" />
<script src="${staticUrl(shell.rootUrl, 'uws.js')}" defer="defer"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Breadcrumb">${trail.map(([text, href]) => html`<a href="${href}">${text}</a>`)}</nav></header>
<main id="main"${shell.mainAttributes}>
${shell.body}
</main>
<footer><p>IVOA UWS 1.1 service. Programs get the same URLs as XML (or JSON with <code>Accept: application/json</code>).</p></footer>
</body>
</html>
`}`;
}
