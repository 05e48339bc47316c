import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { authWorld, basic, type Server, serve } from '../auth/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

/** Each test is its own owner (a trusted proxy header), so per-owner limits do not mix. */
const as = (owner: string) => ({ 'x-remote-user': owner });

async function send(
  url: string,
  init: RequestInit & { headers?: Record<string, string> },
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('limits, each with its status and a message naming it', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: Server;
  let remote: http.Server;
  let remoteUrl: string;

  before(async () => {
    tmp = tempDir('limits');
    server = await serve(tmp.dir, {
      server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 4096 },
      uploads: { maxBytes: 1000, maxFiles: 5, allowPrivateAddresses: true },
      limits: {
        maxParameters: 6,
        maxValueLength: 100,
        maxUploads: 2,
        jobsPerMinute: 6,
        jobsBurst: 4,
        maxActiveJobsPerOwner: 2,
        storageQuotaBytes: 1500,
        maxWaitsPerOwner: 1,
      },
      auth: { strategies: ['proxy-header'], proxyHeader: { trustedProxies: ['127.0.0.1', '::1'] } },
    });
    // A by-reference upload source: /small is 500 bytes, /big 5000.
    remote = http.createServer((req, res) => {
      res.end('x'.repeat(req.url === '/big' ? 5000 : 500));
    });
    await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
    remoteUrl = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
  });
  after(async () => {
    await server?.stop();
    remote?.close();
    tmp?.cleanup();
  });

  const jobs = async () => {
    let n = 0;
    for await (const _ of server.uws.store.allJobIds()) n++;
    return n;
  };

  it('413 for a body over server.bodyLimitBytes, for a file part over uploads.maxBytes', async () => {
    const before = await jobs();
    const body = await send(`${server.url}/sleep/async`, {
      method: 'POST',
      headers: as('body'),
      body: new URLSearchParams({ MESSAGE: 'x'.repeat(5000) }),
    });
    assert.equal(body.status, 413);
    assert.match(body.text, /body is larger than this service accepts \(at most 4096 bytes\)/);
    const form = new FormData();
    form.append('UPLOAD', 't,param:f');
    form.append('f', new Blob(['y'.repeat(2000)]), 'f.txt');
    const part = await send(`${server.url}/checksum/async`, {
      method: 'POST',
      headers: as('body'),
      body: form,
    });
    assert.equal(part.status, 413);
    assert.match(part.text, /larger than/);
    assert.equal(await jobs(), before);
  });

  it('413 past limits.maxParameters and limits.maxUploads; 400 past limits.maxValueLength', async () => {
    const before = await jobs();
    const many = new URLSearchParams(Array.from({ length: 7 }, (): [string, string] => ['TAG', 'x']));
    const tooMany = await send(`${server.url}/sleep/async`, {
      method: 'POST',
      headers: as('count'),
      body: many,
    });
    assert.equal(tooMany.status, 413);
    assert.match(tooMany.text, /7 parameter values; the limit \(limits\.maxParameters\) is 6/);
    const long = await send(`${server.url}/sleep/async`, {
      method: 'POST',
      headers: as('count'),
      body: new URLSearchParams({ RUNID: 'r'.repeat(101) }),
    });
    assert.equal(long.status, 400);
    assert.match(
      long.text,
      /RUNID: value of 101 characters exceeds the limit \(limits\.maxValueLength\) of 100/,
    );
    const uploads = new URLSearchParams([
      ['UPLOAD', `a,${remoteUrl}/small`],
      ['UPLOAD', `b,${remoteUrl}/small`],
      ['UPLOAD', `c,${remoteUrl}/small`],
    ]);
    const three = await send(`${server.url}/checksum/async`, {
      method: 'POST',
      headers: as('count'),
      body: uploads,
    });
    assert.equal(three.status, 413);
    assert.match(three.text, /3 uploads \(files and URLs\); the limit \(limits\.maxUploads\) is 2/);
    assert.equal(await jobs(), before);
  });

  it('a by-reference upload over uploads.maxBytes is refused naming the limit', async () => {
    const before = await jobs();
    const res = await send(`${server.url}/checksum/async`, {
      method: 'POST',
      headers: as('fetch'),
      body: new URLSearchParams({ UPLOAD: `t,${remoteUrl}/big` }),
    });
    assert.equal(res.status, 400);
    assert.match(res.text, /larger than the limit of 1000 bytes/);
    assert.equal(await jobs(), before);
  });

  it('429 with Retry-After past limits.jobsPerMinute (burst limits.jobsBurst); per owner', async () => {
    const create = (owner: string) =>
      send(`${server.url}/sleep/async`, { method: 'POST', headers: as(owner), body: new URLSearchParams() });
    for (let i = 0; i < 4; i++) assert.equal((await create('rate')).status, 303);
    const before = await jobs();
    const refused = await create('rate');
    assert.equal(refused.status, 429);
    assert.match(refused.text, /limit \(limits\.jobsPerMinute\) is 6 a minute/);
    const retry = Number(refused.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 10, `Retry-After ${retry}`);
    assert.equal(await jobs(), before);
    // The sync facade creates jobs too.
    assert.equal((await send(`${server.url}/sleep/sync?DURATION=0`, { headers: as('rate') })).status, 429);
    assert.equal((await create('someone-else')).status, 303);
    // Reading is not creating.
    assert.equal((await send(`${server.url}/sleep/async`, { headers: as('rate') })).status, 200);
  });

  it('403 past limits.maxActiveJobsPerOwner for PHASE=RUN at creation and later; PENDING jobs still allowed', async () => {
    const owner = as('active');
    const create = (query: string) =>
      send(`${server.url}/sleep/async${query}`, {
        method: 'POST',
        headers: owner,
        body: new URLSearchParams(),
      });
    assert.equal((await create('?PHASE=RUN')).status, 303);
    assert.equal((await create('?PHASE=RUN')).status, 303);
    const refused = await create('?PHASE=RUN');
    assert.equal(refused.status, 403);
    assert.match(
      refused.text,
      /owner active has 2 queued and executing jobs; the limit \(limits\.maxActiveJobsPerOwner\) is 2/,
    );
    const pending = await create('');
    assert.equal(pending.status, 303);
    const run = await send(`${pending.headers.get('location')}/phase`, {
      method: 'POST',
      headers: owner,
      body: new URLSearchParams({ PHASE: 'RUN' }),
    });
    assert.equal(run.status, 403);
    assert.match(run.text, /limits\.maxActiveJobsPerOwner/);
    const job = await server.uws.store.get(pending.headers.get('location')!.split('/').pop()!);
    assert.equal(job?.phase, 'PENDING');
  });

  it('403 once results and uploads reach limits.storageQuotaBytes', async () => {
    const owner = as('quota');
    const upload = () => {
      const form = new FormData();
      form.append('UPLOAD', 't,param:f');
      form.append('f', new Blob(['z'.repeat(900)]), 'f.txt');
      return send(`${server.url}/checksum/async`, { method: 'POST', headers: owner, body: form });
    };
    assert.equal((await upload()).status, 303);
    assert.equal((await upload()).status, 303);
    const refused = await upload();
    assert.equal(refused.status, 403);
    assert.match(
      refused.text,
      /owner quota has 1800 bytes of results and uploads stored; the quota \(limits\.storageQuotaBytes\) is 1500/,
    );
  });

  it('429 past limits.maxWaitsPerOwner open WAITs; the slot is freed when the client goes', async () => {
    const owner = as('waiter');
    const created = await send(`${server.url}/sleep/async?PHASE=RUN`, {
      method: 'POST',
      headers: owner,
      body: new URLSearchParams(),
    });
    const url = created.headers.get('location')!;
    const gone = new AbortController();
    const first = fetch(`${url}?WAIT=30`, { headers: owner, signal: gone.signal }).catch(() => null);
    // The first WAIT is blocking once the guard has counted it; poll until the second is refused.
    let second = await send(`${url}?WAIT=1`, { headers: owner });
    for (let i = 0; i < 100 && second.status !== 429; i++)
      second = await send(`${url}?WAIT=1`, { headers: owner });
    assert.equal(second.status, 429);
    assert.match(second.text, /limit \(limits\.maxWaitsPerOwner\) is 1 at once/);
    assert.equal(second.headers.get('retry-after'), '1');
    assert.equal((await send(url, { headers: owner })).status, 200, 'a plain GET is not a WAIT');
    assert.equal((await send(`${url}?WAIT=0`, { headers: as('other-waiter') })).status, 403);
    gone.abort();
    await first;
    let again = await send(`${url}?wait=0`, { headers: owner });
    for (let i = 0; i < 100 && again.status === 429; i++)
      again = await send(`${url}?wait=0`, { headers: owner });
    assert.equal(again.status, 200);
  });
});

describe('by-reference uploads from the service’s own network', () => {
  it('are refused by default, naming the URL, and leave no job', async () => {
    const dir = tempDir('limits-ssrf');
    const server = await serve(dir.dir, {});
    try {
      for (const url of [
        `${server.url}/sleep/capabilities`,
        'http://169.254.169.254/latest/meta-data/',
        'http://localhost:1/x',
      ]) {
        const res = await send(`${server.url}/checksum/async`, {
          method: 'POST',
          body: new URLSearchParams({ UPLOAD: `t,${url}` }),
        });
        assert.equal(res.status, 400, url);
        assert.match(res.text, /parameter UPLOAD: fetching http:\/\/.* is not allowed by this service/, url);
      }
      let n = 0;
      for await (const _ of server.uws.store.allJobIds()) n++;
      assert.equal(n, 0);
    } finally {
      await server.stop();
      dir.cleanup();
    }
  });
});

describe('refused credentials per client address', () => {
  it('429 with Retry-After past limits.authFailuresPerMinute, unchecked; anonymous requests go on', async () => {
    const dir = tempDir('limits-auth');
    const world = await authWorld(dir.dir);
    const server = await serve(dir.dir, { auth: world.auth, limits: { authFailuresPerMinute: 3 } });
    try {
      const list = `${server.url}/sleep/async`;
      for (let i = 0; i < 3; i++)
        assert.equal((await send(list, { headers: basic('alice', 'wrong') })).status, 401);
      const throttled = await send(list, { headers: basic('alice') });
      assert.equal(throttled.status, 429);
      assert.match(throttled.text, /the limit \(limits\.authFailuresPerMinute\) is 3 a minute/);
      assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
      assert.equal((await send(list, {})).status, 200);
    } finally {
      await server.stop();
      dir.cleanup();
    }
  });
});
