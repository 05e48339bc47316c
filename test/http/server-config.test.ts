import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ForbiddenError } from '../../src/core/errors.js';
import { PHASES } from '../../src/core/phases.js';
import { get, post, startHarness } from './harness.js';
import { uwsSchemaErrors, xpathString } from './xmllint.js';

/** 50,000 characters (the parameter limit), full of characters that need escaping. */
const HUGE = `<&>"'`.repeat(10_000);

describe('every XML document kind in every phase, served over HTTP', () => {
  it('XML-1..13, HTTP-7: job, job list, results and parameters validate against UWS-v1.1.xsd in all ten phases', async () => {
    const h = await startHarness();
    try {
      const docs: Record<string, string> = {};
      for (const phase of PHASES) {
        const id = await h.create([
          ['QUERY', `hostile <&>"' \u0001 ${phase}`],
          ['N', '3'],
          ['TAG', 'a'],
          ['TAG', HUGE],
          ['RUNID', `run & ${phase}`],
        ]);
        if (phase === 'HELD' || phase === 'UNKNOWN') {
          const job = (await h.store.get(id))!;
          await h.store.update(id, { version: job.version }, { phase });
        } else if (phase !== 'PENDING') {
          if (phase === 'COMPLETED' || phase === 'ARCHIVED') {
            await h.move(id, 'EXECUTING');
            await h.addResult(id, 'result', '<x/>', 'application/x-votable+xml');
          }
          await h.move(
            id,
            phase,
            phase === 'ERROR'
              ? { errorSummary: { type: 'fatal', message: 'bad <thing> & more', hasDetail: true } }
              : {},
          );
        }
        const url = h.url(`/demo/async/${id}`);
        assert.equal(await (await get(`${url}/phase`)).text(), phase);
        docs[`job-${phase}`] = await (await get(url)).text();
        docs[`results-${phase}`] = await (await get(`${url}/results`)).text();
        docs[`parameters-${phase}`] = await (await get(`${url}/parameters`)).text();
        docs[`list-${phase}`] = await (await get(h.url(`/demo/async?PHASE=${phase}`))).text();
      }
      docs['list-default'] = await (await get(h.url('/demo/async'))).text();
      assert.deepEqual(await uwsSchemaErrors(docs), []);
      assert.match(docs['results-COMPLETED']!, /<uws:result id="result"/);
      assert.match(docs['job-ERROR']!, /<uws:errorSummary/);
      assert.equal(await xpathString(docs['parameters-PENDING']!, '(//*[@id="TAG"])[2]'), HUGE);
      // RES-10: an archived job keeps its metadata but its results are gone.
      assert.doesNotMatch(docs['results-ARCHIVED']!, /<uws:result /);
      const archived = /<uws:jobref id="([^"]+)"/.exec(docs['list-ARCHIVED']!)![1];
      assert.equal((await get(h.url(`/demo/async/${archived}/results/result`))).status, 404);
    } finally {
      await h.close();
    }
  });
});

/** POSTs a create with exactly these headers (fetch may not set Host) and returns the Location. */
function createdAt(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = 'QUERY=x';
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': body.length,
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 303 ? String(res.headers.location) : `status ${res.statusCode}`);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('server options', () => {
  it('HTTP-14: with baseUrl every Location and href uses it; basePath mounts the routes', async () => {
    const h = await startHarness({
      server: { basePath: '/uws/', baseUrl: 'https://vo.example.org/public/uws/' },
    });
    try {
      const res = await post(h.url('/uws/demo/async'), { QUERY: 'x' });
      assert.equal(res.status, 303);
      const location = res.headers.get('location')!;
      assert.match(location, /^https:\/\/vo\.example\.org\/public\/uws\/demo\/async\/[A-Za-z0-9_-]+$/);
      const id = location.split('/').pop()!;
      const list = await (await get(h.url('/uws/demo/async'))).text();
      assert.ok(list.includes(`xlink:href="https://vo.example.org/public/uws/demo/async/${id}"`));
      const root = JSON.parse(await (await get(h.url('/uws'))).text());
      assert.equal(root.jobTypes[0].jobList, 'https://vo.example.org/public/uws/demo/async');
      assert.equal((await get(h.url('/demo/async'))).status, 404);
    } finally {
      await h.close();
    }
  });

  it('HTTP-14: without baseUrl, URLs follow Host; X-Forwarded-* only counts with trustProxy', async () => {
    const plain = await startHarness();
    const trusting = await startHarness({ server: { trustProxy: true } });
    try {
      const headers = {
        host: 'uws.example.net:8443',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'proxy.example.com',
      };
      assert.match(
        await createdAt(plain.url('/demo/async'), headers),
        /^http:\/\/uws\.example\.net:8443\/demo\/async\//,
      );
      assert.match(
        await createdAt(trusting.url('/demo/async'), headers),
        /^https:\/\/proxy\.example\.com\/demo\/async\//,
      );
      assert.equal(await createdAt(plain.url('/demo/async'), { host: 'bad host<>' }), 'status 400');
    } finally {
      await plain.close();
      await trusting.close();
    }
  });

  it('413: a urlencoded body over bodyLimit is refused with a message', async () => {
    const h = await startHarness({ server: { bodyLimit: 1000 } });
    try {
      const res = await post(h.url('/demo/async'), { QUERY: 'x'.repeat(2000) });
      assert.equal(res.status, 413);
      assert.match(await res.text(), /larger than this service accepts/);
      assert.equal((await post(h.url('/demo/async'), { QUERY: 'x'.repeat(500) })).status, 303);
    } finally {
      await h.close();
    }
  });

  it('HTTP-4: a real fault is a 500 whose body carries the id that the log records', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const h = await startHarness({
      server: {
        loggerInstance: pino({ level: 'warn' }, sink),
        identify: (request) => {
          if (request.headers['x-break']) throw new Error('identity provider exploded');
          return { ownerId: null };
        },
      },
    });
    try {
      const res = await get(h.url('/demo/async'), { headers: { 'x-break': '1' } });
      assert.equal(res.status, 500);
      const body = await res.text();
      const id = /fault id ([0-9a-f-]{36})/.exec(body)?.[1];
      assert.ok(id, body);
      assert.doesNotMatch(body, /exploded/, 'internals stay in the log');
      const logged = lines.map((l) => JSON.parse(l)).find((l) => l.faultId === id);
      assert.ok(logged, 'the log has an entry with the same fault id');
      assert.match(JSON.stringify(logged), /identity provider exploded/);
      // A client error is not a fault: no 500, nothing logged at error level.
      const before = lines.length;
      assert.equal((await get(h.url('/demo/async?LAST=0'))).status, 400);
      assert.equal(lines.length, before);
    } finally {
      await h.close();
    }
  });

  it('HTTP-12, JL-POST-3: the identify hook can refuse a request with its own status and headers', async () => {
    const h = await startHarness({
      server: {
        identify: (request, reply) => {
          if (request.headers['x-banned']) throw new ForbiddenError('you may not use this service');
          if (!request.headers.authorization) {
            reply.header('WWW-Authenticate', 'Bearer realm="uws"');
            throw Object.assign(new Error('log in first'), { statusCode: 401 });
          }
          return { ownerId: 'someone' };
        },
      },
    });
    try {
      const res = await get(h.url('/demo/async'));
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="uws"');
      assert.match(await res.text(), /log in first/);
      assert.equal((await get(h.url('/demo/async'), { headers: { authorization: 'Bearer x' } })).status, 200);
      // JL-POST-3: a rejected creation is 403.
      const banned = await post(h.url('/demo/async'), { QUERY: 'x' }, { headers: { 'x-banned': '1' } });
      assert.equal(banned.status, 403);
      assert.match(await banned.text(), /may not use/);
    } finally {
      await h.close();
    }
  });

  it('VOSI availability reports what the availability hook says', async () => {
    const h = await startHarness({
      server: { availability: () => ({ available: false, note: 'down for <maintenance>' }) },
    });
    try {
      const body = await (await get(h.url('/demo/availability'))).text();
      assert.match(body, /<vosi:available>false<\/vosi:available>/);
      assert.match(body, /<vosi:note>down for &lt;maintenance&gt;<\/vosi:note>/);
    } finally {
      await h.close();
    }
  });
});
