import { createHash } from 'node:crypto';

/*
 * The pages' only script and stylesheet, kept here as text so that they ship
 * with the compiled library (tsc copies no other files) and need no build step.
 * They are served from /static/ with a content hash in the URL and a year-long
 * cache, and the pages carry no inline script or style, so a strict
 * Content-Security-Policy holds.
 */

/**
 * The job page's live phase: while the job is in an active phase, a blocking
 * WAIT (UWS 1.1 sec. 2.2.3.5) on the job's own URL, asking for JSON, returns as
 * soon as the phase changes; the page then updates the phase (an aria-live
 * region), times, results, error and which buttons apply, without a reload.
 * Also: a confirmation before deleting, and the UPLOAD=name,param:part value of
 * upload inputs, sent only when a file was chosen.
 */
export const UWS_JS = `'use strict';
(function () {
  var ACTIVE = ['PENDING', 'QUEUED', 'EXECUTING'];
  var UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB'];

  function formatSize(bytes) {
    if (bytes === null || bytes === undefined || !isFinite(bytes) || bytes < 0) return 'size unknown';
    var exact = bytes.toLocaleString('en-US') + (bytes === 1 ? ' byte' : ' bytes');
    if (bytes < 1000) return exact;
    var value = bytes;
    var unit = 0;
    while (value >= 1000 && unit < UNITS.length - 1) {
      value /= 1000;
      unit++;
    }
    return (value < 10 ? value.toFixed(1) : Math.round(value)) + ' ' + UNITS[unit] + ' (' + exact + ')';
  }

  function setField(name, value) {
    var nodes = document.querySelectorAll('[data-field="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var text = value === null || value === undefined || value === '' ? el.getAttribute('data-empty') || '' : String(value);
      if (el.textContent !== text) el.textContent = text;
      if (el.tagName === 'TIME') {
        if (value) el.setAttribute('datetime', value);
        else el.removeAttribute('datetime');
      }
    }
  }

  function showForPhase(phase) {
    var nodes = document.querySelectorAll('[data-phases]');
    for (var i = 0; i < nodes.length; i++) {
      nodes[i].hidden = nodes[i].getAttribute('data-phases').split(' ').indexOf(phase) < 0;
    }
  }

  function renderResults(results) {
    var list = document.getElementById('results');
    if (!list) return;
    list.textContent = '';
    if (results.length === 0) {
      var none = document.createElement('li');
      none.textContent = list.getAttribute('data-empty') || '';
      list.appendChild(none);
      return;
    }
    for (var i = 0; i < results.length; i++) {
      var r = results[i];
      var item = document.createElement('li');
      var link = document.createElement('a');
      link.href = r.href;
      link.textContent = r.id;
      item.appendChild(link);
      item.appendChild(document.createTextNode(' ' + r.mimeType + ', ' + formatSize(r.size)));
      list.appendChild(item);
    }
  }

  function update(main, job) {
    main.setAttribute('data-phase', job.phase);
    document.title = document.title.replace(/: [A-Z]+$/, ': ' + job.phase);
    setField('phase', job.phase);
    setField('startTime', job.startTime);
    setField('endTime', job.endTime);
    setField('destruction', job.destruction);
    setField('quote', job.quote);
    setField('errorType', job.errorSummary ? job.errorSummary.type : '');
    setField('errorMessage', job.errorSummary ? job.errorSummary.message : '');
    renderResults(job.results || []);
    showForPhase(job.phase);
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  async function watch(main) {
    var jobUrl = main.getAttribute('data-job-url');
    var phase = main.getAttribute('data-phase');
    var failures = 0;
    while (ACTIVE.indexOf(phase) >= 0) {
      var response;
      try {
        response = await fetch(jobUrl + '?WAIT=30&PHASE=' + encodeURIComponent(phase), {
          headers: { Accept: 'application/json' },
          cache: 'no-store',
          credentials: 'same-origin'
        });
      } catch (err) {
        failures++;
        await sleep(Math.min(30000, 1000 * failures));
        continue;
      }
      if (response.status === 404) {
        setField('liveNote', 'This job no longer exists.');
        return;
      }
      if (!response.ok) {
        failures++;
        await sleep(Math.min(30000, 1000 * failures));
        continue;
      }
      failures = 0;
      var job = await response.json();
      update(main, job);
      phase = job.phase;
    }
    setField('liveNote', '');
  }

  function onSubmit(event) {
    var form = event.target;
    var question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    var files = form.querySelectorAll('input[type="file"][data-upload]');
    for (var i = 0; i < files.length; i++) {
      var input = files[i];
      var hidden = document.getElementById(input.getAttribute('data-upload'));
      var tableName = document.getElementById(input.getAttribute('data-table-name'));
      if (!hidden) continue;
      var chosen = input.files && input.files.length > 0;
      hidden.disabled = !chosen;
      if (chosen && tableName) hidden.value = tableName.value.trim() + ',param:' + input.name;
    }
  }

  document.addEventListener('submit', onSubmit);
  var main = document.querySelector('main[data-job-url]');
  if (main) {
    setField('liveNote', ACTIVE.indexOf(main.getAttribute('data-phase')) >= 0 ? main.getAttribute('data-live-note') : '');
    watch(main);
  }
})();
`;

export const UWS_CSS = `:root {
  color-scheme: light dark;
  --fg: #1b1f24;
  --bg: #ffffff;
  --muted: #57606a;
  --line: #d0d7de;
  --accent: #0b5cad;
  --danger: #b42318;
  --ok: #1a7f37;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  line-height: 1.5;
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --line: #30363d; --accent: #58a6ff; --danger: #ff7b72; --ok: #3fb950; }
}
body { margin: 0; color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 62rem; margin: 0 auto; padding: 0 1rem; }
header { border-bottom: 1px solid var(--line); padding-top: .5rem; padding-bottom: .5rem; }
header nav a { margin-right: 1rem; }
footer { color: var(--muted); font-size: .875rem; padding-top: 2rem; padding-bottom: 2rem; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible {
  outline: 3px solid var(--accent); outline-offset: 2px;
}
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: .5rem; background: var(--bg); padding: .25rem .5rem; z-index: 1; }
h1 { font-size: 1.6rem; margin: 1rem 0 .5rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
.phase { display: inline-block; padding: 0 .5rem; border-radius: .25rem; border: 1px solid var(--line); font-weight: 700; }
main[data-phase="QUEUED"] .phase, main[data-phase="EXECUTING"] .phase { border-color: var(--accent); color: var(--accent); }
main[data-phase="COMPLETED"] .phase { border-color: var(--ok); color: var(--ok); }
main[data-phase="ERROR"] .phase, main[data-phase="ABORTED"] .phase { border-color: var(--danger); color: var(--danger); }
#destruction-input { width: 17em; }
.hint { color: var(--muted); font-size: .875rem; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; }
.actions form { margin: 0; }
button { font: inherit; padding: .3rem .9rem; border-radius: .3rem; border: 1px solid var(--line); background: var(--bg); color: var(--fg); cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { border-color: var(--danger); color: var(--danger); }
input, select, textarea { font: inherit; padding: .25rem .4rem; border: 1px solid var(--line); border-radius: .25rem; background: var(--bg); color: var(--fg); max-width: 100%; }
fieldset { border: 1px solid var(--line); border-radius: .3rem; margin: 0 0 1rem; }
fieldset.phases label { display: inline-block; margin-right: .75rem; white-space: nowrap; }
.field { margin: 0 0 .9rem; }
.field label { display: block; font-weight: 600; }
.field.check label { display: inline; }
.error { border-left: 4px solid var(--danger); padding-left: .75rem; }
.paging a { margin-right: 1rem; }
[hidden] { display: none !important; }
`;

/** A small icon, so that browsers do not ask for /favicon.ico (a 404 in every page's console). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b5cad"/><path d="M4 4v5a4 4 0 0 0 8 0V4" fill="none" stroke="#fff" stroke-width="2"/></svg>
`;

function versioned(content: string): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 12);
}

/** Served files, keyed by the name under /static/. */
export const STATIC_FILES: Readonly<
  Record<string, { readonly body: string; readonly type: string; readonly version: string }>
> = {
  'uws.js': { body: UWS_JS, type: 'text/javascript; charset=utf-8', version: versioned(UWS_JS) },
  'uws.css': { body: UWS_CSS, type: 'text/css; charset=utf-8', version: versioned(UWS_CSS) },
  'favicon.svg': { body: FAVICON_SVG, type: 'image/svg+xml', version: versioned(FAVICON_SVG) },
};

/** The URL of a static file with its content version, so that a year-long cache is safe. */
export function staticUrl(rootUrl: string, name: keyof typeof STATIC_FILES & string): string {
  const file = STATIC_FILES[name];
  return `${rootUrl}/static/${name}?v=${file?.version ?? '0'}`;
}
