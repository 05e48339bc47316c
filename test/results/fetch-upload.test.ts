import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BadRequestError } from '../../src/core/errors.js';
import { createRemoteFetcher, type FetchUploadOptions, fetchUpload } from '../../src/results/fetch-upload.js';
import { WorkDirs } from '../../src/results/workdirs.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-fetch-'));
const workDirs = new WorkDirs(path.join(tmp, 'root'));
const table = Buffer.from('<VOTABLE version="1.4"><RESOURCE/></VOTABLE>\n'.repeat(100));
const pending = new Set<http.ServerResponse>();
let base = '';

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  switch (url.pathname) {
    case '/table.vot':
      res.writeHead(200, { 'content-type': 'application/x-votable+xml' });
      res.end(table);
      return;
    case '/big':
      res.writeHead(200, { 'content-length': String(10_000_000) });
      res.end(Buffer.alloc(10_000_000));
      return;
    case '/big-chunked': {
      // No content-length: the limit must be enforced while counting.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let left = 50;
      const more = () => {
        while (left > 0) {
          left--;
          if (!res.write(Buffer.alloc(100_000, 1))) return void res.once('drain', more);
        }
        res.end();
      };
      more();
      return;
    }
    case '/slow':
      res.writeHead(200);
      res.write('a little');
      pending.add(res); // never ends
      return;
    case '/hang':
      pending.add(res); // never even answers
      return;
    case '/redirect':
      res.writeHead(302, { location: '/table.vot' });
      res.end();
      return;
    case '/loop': {
      const i = Number(url.searchParams.get('i') ?? '0');
      res.writeHead(302, { location: `/loop?i=${i + 1}` });
      res.end();
      return;
    }
    case '/to-file':
      res.writeHead(302, { location: 'file:///etc/passwd' });
      res.end();
      return;
    default:
      res.writeHead(404);
      res.end('no such thing');
  }
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const res of pending) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const options: FetchUploadOptions = { limitBytes: 1_000_000, timeoutMs: 5_000 };

async function refusal(url: string, pattern: RegExp, opts = options): Promise<void> {
  await assert.rejects(fetchUpload(workDirs, url, 'UPLOAD', opts), (e: unknown) => {
    assert.ok(e instanceof BadRequestError, String(e));
    assert.equal(e.parameter, 'UPLOAD');
    assert.match(e.message, /^parameter UPLOAD: /);
    assert.match(e.message, pattern);
    return true;
  });
}

function stagedFiles(): string[] {
  return fs.existsSync(workDirs.stageDir()) ? fs.readdirSync(workDirs.stageDir()) : [];
}

test('fetches a file into the staging directory', async () => {
  const got = await fetchUpload(workDirs, `${base}/table.vot`, 'UPLOAD', options);
  assert.equal(got.partName, 'UPLOAD');
  assert.equal(got.size, table.length);
  assert.equal(got.mediaType, 'application/x-votable+xml');
  assert.deepEqual(fs.readFileSync(got.path), table);
  await workDirs.adopt('jobA', got.path, 't1');
  assert.deepEqual(fs.readFileSync(workDirs.filePath('jobA', 't1')), table);
});

test('follows redirects, at most 5', async () => {
  const fetcher = createRemoteFetcher(workDirs, options);
  const got = await fetcher(`${base}/redirect`, 'INPUT');
  assert.deepEqual(fs.readFileSync(got.path), table);
  await workDirs.discard(got.path);
  await refusal(`${base}/loop`, /redirects more than 5 times/);
});

test('refuses files over the limit, declared or counted, and leaves nothing staged', async () => {
  const before = stagedFiles().length;
  await refusal(`${base}/big`, /larger than the limit of 1000000 bytes/);
  await refusal(`${base}/big-chunked`, /larger than the limit of 1000000 bytes/);
  assert.equal(stagedFiles().length, before);
});

test('gives up after the timeout, whether the answer or the body is slow', async () => {
  const before = stagedFiles().length;
  const quick = { limitBytes: 1_000_000, timeoutMs: 300 };
  await refusal(`${base}/hang`, /took longer than 300 ms/, quick);
  await refusal(`${base}/slow`, /took longer than 300 ms/, quick);
  assert.equal(stagedFiles().length, before);
});

test('an HTTP error status is a bad request naming the status', async () => {
  await refusal(`${base}/missing`, /failed with HTTP status 404/);
});

test('only http and https, also after a redirect', async () => {
  await refusal('file:///etc/passwd', /only http and https/);
  await refusal('ftp://example.org/x', /only http and https/);
  await refusal(`${base}/to-file`, /only http and https/);
  await refusal('not a url', /is not a URL/);
});

test('allowUrl can refuse hosts; an unreachable server is reported', async () => {
  await refusal(`${base}/table.vot`, /not allowed/, {
    ...options,
    allowUrl: (u) => u.hostname !== '127.0.0.1',
  });
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  await refusal(`http://127.0.0.1:${port}/x`, /could not fetch .*ECONNREFUSED/);
});
