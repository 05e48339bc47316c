import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptPrefersHtml } from '../../src/web/accept.js';

describe('who gets a page (UWS 2.2.2: XML in preference for programs)', () => {
  const cases: [string, string | undefined, boolean][] = [
    [
      'Chromium',
      'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
      true,
    ],
    ['Firefox, Safari', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['only HTML', 'text/html', true],
    ['only XHTML', 'application/xhtml+xml', true],
    ['Java HttpURLConnection (STIL, TOPCAT)', 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2', false],
    ['no Accept (pyvo, requests, curl -H "Accept:")', undefined, false],
    ['curl, wget', '*/*', false],
    ['UWS clients', 'application/xml,text/plain', false],
    ['a tie keeps XML', 'text/xml, text/html', false],
    ['XML ranked higher', 'text/html;q=0.5, application/xml', false],
    ['JSON ranked higher', 'application/json, text/html;q=0.9', false],
    ['JSON tie keeps the document', 'text/html, application/json', false],
    ['HTML refused', 'text/html;q=0, */*', false],
    ['XML only through a wildcard', 'text/html, */*;q=0.1', false],
  ];
  for (const [who, header, page] of cases) {
    it(`${who}: ${page ? 'a page' : 'the document'}`, () => {
      assert.equal(acceptPrefersHtml(header), page);
    });
  }
});
