import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebPages } from '../../src/web/index.js';
import { type Harness, startHarness } from '../http/harness.js';
import { count, wellFormednessErrors, xpath } from './xmllint.js';

/** What Chromium and Firefox send for a navigation. */
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

async function get(url: string, accept?: string) {
  const r = await fetch(url, { headers: accept === undefined ? {} : { Accept: accept } });
  return {
    status: r.status,
    type: r.headers.get('content-type') ?? '',
    headers: r.headers,
    body: await r.text(),
  };
}

describe('the same URLs for programs and browsers (UWS 2.2.2)', () => {
  let h: Harness;
  let jobId: string;

  before(async () => {
    h = await startHarness({ server: { web: createWebPages() } });
    jobId = await h.create({ QUERY: '<b>bold</b>', N: '3', RUNID: 'r1' });
  });
  after(() => h.close());

  it('gives XML by default and to programs, JSON when asked, HTML only when HTML is preferred', async () => {
    const cases: [string | undefined, RegExp][] = [
      [undefined, /xml/],
      ['*/*', /xml/],
      ['application/xml', /xml/],
      ['text/xml, text/html', /xml/],
      ['text/html;q=0.5, application/xml', /xml/],
      ['application/json', /^application\/json/],
      ['text/html', /^text\/html/],
      ['application/xhtml+xml', /^text\/html/],
      // Java's HttpURLConnection default (STIL, TOPCAT): HTML first by q, yet a program.
      ['text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2', /xml/],
      [BROWSER, /^text\/html/],
    ];
    for (const path of ['/demo/async', `/demo/async/${jobId}`]) {
      for (const [accept, type] of cases) {
        const r = await get(h.url(path), accept);
        assert.equal(r.status, 200, `${path} ${accept}`);
        assert.match(r.type, type, `${path} with Accept: ${accept}`);
      }
    }
  });

  it('sends pages with a strict CSP, no caching and Vary: Accept', async () => {
    const job = await get(h.url(`/demo/async/${jobId}`), BROWSER);
    assert.equal(wellFormednessErrors(job.body), '');
    assert.match(job.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.doesNotMatch(job.headers.get('content-security-policy') ?? '', /unsafe-inline/);
    assert.equal(job.headers.get('cache-control'), 'no-store');
    assert.match(job.headers.get('vary') ?? '', /Accept/i);
    assert.equal(xpath(job.body, 'string(//main/@data-job-url)'), h.url(`/demo/async/${jobId}`));
    assert.equal(count(job.body, '//b'), 0, 'a parameter value stays text');

    const list = await get(h.url('/demo/async?PHASE=PENDING'), BROWSER);
    assert.equal(count(list.body, `//tbody/tr/td/a[@href="${h.url(`/demo/async/${jobId}`)}"]`), 1);
    assert.equal(count(list.body, '//input[@name="PHASE"][@value="PENDING"][@checked]'), 1);
    const none = await get(h.url('/demo/async?PHASE=COMPLETED'), BROWSER);
    assert.equal(count(none.body, '//tbody/tr'), 0);
  });

  it('pages the list with a keyset cursor', async () => {
    const ids = [jobId];
    for (let i = 0; i < 55; i++) ids.push(await h.create({ N: String(i % 100) }));
    const seen = new Set<string>();
    let url: string | null = h.url('/demo/async');
    let pages = 0;
    while (url) {
      const page = await get(url, BROWSER);
      pages++;
      const links = xpath(page.body, '//tbody/tr/td/a/@href').match(/href="[^"]+"/g) ?? [];
      for (const l of links) seen.add(l.slice(6, -1).split('/').pop()!);
      const next = xpath(page.body, 'string(//a[@rel="next"]/@href)');
      url = next === '' ? null : next;
    }
    assert.equal(pages, 2);
    assert.deepEqual([...seen].sort(), [...ids].sort());
    const last = await get(h.url('/demo/async?LAST=3'), BROWSER);
    assert.equal(count(last.body, '//tbody/tr'), 3);
    assert.equal(count(last.body, '//a[@rel="next"]'), 0);
  });

  it('answers a bad filter with 400 naming the parameter', async () => {
    const r = await get(h.url('/demo/async?BEFORE=soon'), BROWSER);
    assert.equal(r.status, 400);
    assert.match(r.body, /BEFORE/);
  });

  it('serves the script and stylesheet with their types and a long cache', async () => {
    const page = await get(h.url('/demo/async'), BROWSER);
    for (const [xp, type] of [
      ['string(//script/@src)', /^text\/javascript/],
      ['string(//link[@rel="stylesheet"]/@href)', /^text\/css/],
    ] as const) {
      const href = xpath(page.body, xp);
      assert.match(href, /\?v=[0-9a-f]{12}$/);
      const r = await get(href);
      assert.equal(r.status, 200);
      assert.match(r.type, type);
      assert.match(r.headers.get('cache-control') ?? '', /max-age=31536000/);
      assert.ok(r.body.length > 100);
    }
  });
});
