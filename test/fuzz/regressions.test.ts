import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Server, serve } from '../auth/fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { buildRequest, header, type RawResponse, rawRequest } from './raw-http.js';

/**
 * Each bug the hostile-input campaign found, as the smallest request that
 * showed it, against a real server with the default configuration.
 */
describe('what the hostile-input campaign found stays fixed', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: Server;
  let port: number;

  before(async () => {
    tmp = tempDir('fuzz-regressions');
    server = await serve(tmp.dir, {});
    port = Number(new URL(server.url).port);
  });
  after(async () => {
    await server?.stop();
    tmp?.cleanup();
  });

  const send = (method: string, target: string, headers: [string, string][], body = '') =>
    rawRequest(
      port,
      buildRequest(
        method,
        target,
        headers.map(([n, v]) => [n, Buffer.from(v, 'latin1')]),
        Buffer.from(body, 'latin1'),
      ),
      30_000,
    );
  const host: [string, string] = ['Host', '127.0.0.1'];
  const jobCount = async () => {
    let n = 0;
    for await (const _ of server.uws.store.allJobIds()) n++;
    return n;
  };
  const staged = () => {
    const dir = path.join(tmp.dir, 'work', '.staging');
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  };
  const ourForm = (res: RawResponse, status: number) => {
    assert.equal(res.status, status, res.head);
    assert.equal(header(res, 'content-type'), 'text/plain; charset=utf-8', res.head);
    assert.equal(header(res, 'x-content-type-options'), 'nosniff', res.head);
    assert.match(header(res, 'content-security-policy') ?? '', /default-src 'none'/, res.head);
  };

  it('a URL with a percent-escape that is not UTF-8: 400 in the service’s form, not Fastify’s JSON', async () => {
    const res = await send('GET', '/sleep/async/abc/parameters/%FF', [host]);
    ourForm(res, 400);
    assert.match(res.body.toString(), /percent-escape/);
  });

  it('requests Node’s parser refuses (unknown method, head over 16 KiB): with the security headers', async () => {
    ourForm(await send('BREW', '/sleep/async', [host]), 400);
    ourForm(await send('GET', `/sleep/async?x=${'y'.repeat(20_000)}`, [host]), 431);
  });

  it('no Host, or one no URL can be built from: 400 before anything changes', async () => {
    const before = await jobCount();
    for (const headers of [[], [['Host', 'evil"<>host']]] as [string, string][][]) {
      const res = await send(
        'POST',
        '/sleep/async',
        [...headers, ['Content-Type', 'application/x-www-form-urlencoded']],
        'DURATION=1',
      );
      ourForm(res, 400);
      assert.match(res.body.toString(), /no valid Host header/);
    }
    assert.equal(await jobCount(), before);
  });

  it('HEAD on the sync facade does not start a job', async () => {
    const before = await jobCount();
    const res = await send('HEAD', '/sleep/sync?DURATION=0', [host]);
    assert.equal(res.status, 405);
    assert.equal(header(res, 'allow'), 'GET, POST, OPTIONS');
    assert.equal(await jobCount(), before);
  });

  it('a multipart body cut short: 400 naming the problem, not 500; nothing staged is left', async () => {
    const type: [string, string] = ['Content-Type', 'multipart/form-data; boundary=X'];
    const part = '--X\r\nContent-Disposition: form-data; name="DURATION"\r\n\r\n1\r\n';
    const res = await send('POST', '/sleep/async', [host, type], part.slice(0, -5));
    ourForm(res, 400);
    assert.match(res.body.toString(), /the multipart body cannot be read: .*end of multipart data/);
    assert.deepEqual(staged(), []);
  });

  it('a file part, then an empty file input, body cut short: answered at once, not hung', async () => {
    const before = await jobCount();
    const file = (name: string, filename: string, data: string) =>
      `--X\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: text/plain\r\n\r\n${data}\r\n`;
    const res = await send(
      'POST',
      '/checksum/async',
      [host, ['Content-Type', 'multipart/form-data; boundary=X']],
      file('f', 'a.txt', 'table') + file('g', '', 'x'.repeat(300_000)),
    );
    ourForm(res, 400);
    assert.deepEqual(staged(), []);
    assert.equal(await jobCount(), before);
  });

  it('a part without headers and over 16 KiB (stalls the multipart parser): 400 within seconds, not a hung request', async () => {
    const before = await jobCount();
    const started = Date.now();
    const res = await send(
      'POST',
      '/sleep/async',
      [host, ['Content-Type', 'multipart/form-data; boundary=X']],
      `--X\r\n\r\n${'<'.repeat(20_000)}\r\n--X--\r\n`,
    );
    ourForm(res, 400);
    assert.match(res.body.toString(), /the parser stopped/);
    assert.ok(Date.now() - started < 30_000);
    assert.equal(await jobCount(), before);
  });
});
