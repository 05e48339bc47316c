import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteFetcher } from '../../src/results/fetch-upload.js';
import { get, type Harness, post, startHarness } from './harness.js';
import { uwsSchemaErrors, xpathString } from './xmllint.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const list = () => h.url('/demo/async');
const jobUrl = (id: string) => `${list()}/${id}`;
/** Every byte value, so that any text decoding on the way would show. */
const BINARY = new Uint8Array(3000).map((_, i) => (i * 31 + 7) & 0xff);

function stagedFiles(): string[] {
  const dir = h.workDirs.stageDir();
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

async function createWith(form: FormData, url = list()): Promise<Response> {
  return post(url, form);
}

describe('inline uploads (PAR-7, DALI-8)', () => {
  it('PAR-7, DALI-8, AMB-19: UPLOAD=t1,param:t1 plus a part t1 is stored, listed byReference and served back byte-identical', async () => {
    const form = new FormData();
    form.append('UPLOAD', 't1,param:t1');
    form.append('t1', new Blob([BINARY], { type: 'application/x-votable+xml' }), 't1.xml');
    form.append('QUERY', 'SELECT * FROM TAP_UPLOAD.t1');
    const res = await createWith(form);
    assert.equal(res.status, 303, await res.clone().text());
    const url = res.headers.get('location')!;
    const doc = await (await get(url)).text();
    assert.deepEqual(await uwsSchemaErrors({ doc }), []);
    assert.equal(await xpathString(doc, '//*[@id="UPLOAD"]/@byReference'), 'true');
    const ref = await xpathString(doc, '//*[@id="UPLOAD"]');
    assert.equal(ref, `${url}/parameters/t1`);
    const served = await get(ref);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'application/x-votable+xml');
    assert.equal(served.headers.get('content-length'), String(BINARY.length));
    assert.deepEqual(new Uint8Array(await served.arrayBuffer()), BINARY);
    assert.deepEqual(stagedFiles(), [], 'nothing left in staging');
  });

  it('DALI-8: several uploads, and a file parameter sent as a part named after it', async () => {
    const form = new FormData();
    form.append('UPLOAD', 'a,param:p1');
    form.append('UPLOAD', 'b,param:p2');
    form.append('p1', new Blob(['first']), 'a.csv');
    form.append('p2', new Blob(['second']), 'b.csv');
    form.append('DATA', new Blob([BINARY]), 'data.bin');
    const res = await createWith(form);
    assert.equal(res.status, 303, await res.clone().text());
    const url = res.headers.get('location')!;
    const params = await (await get(`${url}/parameters`)).text();
    assert.deepEqual(await uwsSchemaErrors({ params }), []);
    assert.equal(await xpathString(params, 'count(//*[@id="UPLOAD"][@byReference="true"])'), '2');
    assert.equal(await (await get(`${url}/parameters/a`)).text(), 'first');
    assert.equal(await (await get(`${url}/parameters/b`)).text(), 'second');
    const data = await get(await xpathString(params, '//*[@id="DATA"]'));
    assert.deepEqual(new Uint8Array(await data.arrayBuffer()), BINARY);
  });

  it('PAR-5, PAR-7: an upload POSTed to /parameters while PENDING is added (303)', async () => {
    const id = await h.create({ QUERY: 'q' });
    const form = new FormData();
    form.append('UPLOAD', 'late,param:late');
    form.append('late', new Blob(['late table']), 'late.csv');
    const res = await post(`${jobUrl(id)}/parameters`, form);
    assert.equal(res.status, 303, await res.clone().text());
    assert.equal(res.headers.get('location'), jobUrl(id));
    assert.equal(await (await get(`${jobUrl(id)}/parameters/late`)).text(), 'late table');
    await h.move(id, 'QUEUED');
    const form2 = new FormData();
    form2.append('UPLOAD', 'later,param:later');
    form2.append('later', new Blob(['x']), 'x.csv');
    assert.equal((await post(`${jobUrl(id)}/parameters`, form2)).status, 403);
    assert.deepEqual(stagedFiles(), [], 'the refused upload was discarded');
  });

  it('DALI-8: a param: reference without its part, or a part nobody refers to, is 400 and leaves no files behind', async () => {
    const missing = new FormData();
    missing.append('UPLOAD', 't1,param:nothere');
    let res = await createWith(missing);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /nothere/);
    const orphan = new FormData();
    orphan.append('QUERY', 'x');
    orphan.append('stray', new Blob(['x']), 'x.csv');
    res = await createWith(orphan);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /stray/);
    assert.deepEqual(stagedFiles(), []);
  });

  it('413: a file larger than the staging limit is refused and its partial file removed', async () => {
    const form = new FormData();
    form.append('UPLOAD', 'big,param:big');
    form.append('big', new Blob([new Uint8Array((1 << 20) + 10)]), 'big.bin');
    const res = await createWith(form);
    assert.equal(res.status, 413);
    assert.match(await res.text(), /limit|larger/);
    assert.deepEqual(stagedFiles(), []);
  });

  it('a file part sent where no files are accepted (/phase, the job URL) is 400', async () => {
    const id = await h.create();
    for (const url of [`${jobUrl(id)}/phase`, jobUrl(id)]) {
      const form = new FormData();
      form.append('PHASE', 'RUN');
      form.append('f', new Blob(['x']), 'x');
      const res = await post(url, form);
      assert.equal(res.status, 400, url);
      assert.match(await res.text(), /file part f/);
    }
    assert.equal(await (await get(`${jobUrl(id)}/phase`)).text(), 'PENDING');
  });

  it('an empty file input (as a browser sends it) is ignored', async () => {
    const form = new FormData();
    form.append('QUERY', 'from a browser form');
    form.append('DATA', new Blob([]), '');
    const res = await createWith(form);
    assert.equal(res.status, 303, await res.clone().text());
  });

  it('multipart to /phase and /parameters works for plain fields too (pyvo sends multipart once files exist)', async () => {
    const id = await h.create();
    const form = new FormData();
    form.append('PHASE', 'RUN');
    assert.equal((await post(`${jobUrl(id)}/phase`, form)).status, 303);
    assert.equal(await (await get(`${jobUrl(id)}/phase`)).text(), 'QUEUED');
  });

  it('a destroyed job takes its uploaded files with it', async () => {
    const form = new FormData();
    form.append('UPLOAD', 't,param:t');
    form.append('t', new Blob(['bytes']), 't');
    const res = await createWith(form);
    const url = res.headers.get('location')!;
    const id = url.split('/').pop()!;
    assert.ok(fs.existsSync(path.join(h.workDirs.path(id), 't')));
    assert.equal((await get(url, { method: 'DELETE' })).status, 303);
    assert.equal((await get(`${url}/parameters/t`)).status, 404);
    assert.equal(fs.existsSync(h.workDirs.path(id)), false);
  });
});

describe('by-reference uploads (DALI-8)', () => {
  it('DALI-8: UPLOAD=name,http-URL is fetched into the job, listed byReference at this server and served back', async () => {
    const origin = http.createServer((req, res) => {
      if (req.url === '/table.vot') {
        res.writeHead(200, { 'content-type': 'application/x-votable+xml' });
        res.end(Buffer.from(BINARY));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const port = (origin.address() as { port: number }).port;
    const own = await startHarness({
      service: (workDirs) => ({
        fetchRemote: createRemoteFetcher(workDirs, { limitBytes: 1 << 20, timeoutMs: 5000 }),
      }),
    });
    try {
      const res = await post(own.url('/demo/async'), { UPLOAD: `remote,http://127.0.0.1:${port}/table.vot` });
      assert.equal(res.status, 303, await res.clone().text());
      const url = res.headers.get('location')!;
      const doc = await (await get(url)).text();
      assert.deepEqual(await uwsSchemaErrors({ doc }), []);
      assert.equal(await xpathString(doc, '//*[@id="UPLOAD"]'), `${url}/parameters/remote`);
      const served = await get(`${url}/parameters/remote`);
      assert.deepEqual(new Uint8Array(await served.arrayBuffer()), BINARY);
      const missing = await post(own.url('/demo/async'), { UPLOAD: `gone,http://127.0.0.1:${port}/nothing` });
      assert.equal(missing.status, 400);
      assert.match(await missing.text(), /UPLOAD/);
    } finally {
      await own.close();
      origin.close();
    }
  });
});

describe('multipart limits', () => {
  it('413 for too many fields, too many files or a file over maxFileBytes; nothing is left in staging', async () => {
    const own = await startHarness({ server: { uploads: { maxFields: 3, maxFiles: 1, maxFileBytes: 100 } } });
    const staged = () => {
      const dir = own.workDirs.stageDir();
      return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    };
    try {
      const fields = new FormData();
      for (let i = 0; i < 5; i++) fields.append('TAG', `t${i}`);
      let res = await post(own.url('/demo/async'), fields);
      assert.equal(res.status, 413);
      assert.match(await res.text(), /form fields/);

      const files = new FormData();
      files.append('UPLOAD', 'a,param:a');
      files.append('a', new Blob(['1']), 'a');
      files.append('b', new Blob(['2']), 'b');
      res = await post(own.url('/demo/async'), files);
      assert.equal(res.status, 413);
      assert.match(await res.text(), /more files/);

      const big = new FormData();
      big.append('UPLOAD', 'a,param:a');
      big.append('a', new Blob([new Uint8Array(101)]), 'a');
      res = await post(own.url('/demo/async'), big);
      assert.equal(res.status, 413);
      assert.match(await res.text(), /larger than this service accepts/);

      const fits = new FormData();
      fits.append('UPLOAD', 'a,param:a');
      fits.append('a', new Blob([new Uint8Array(100)]), 'a');
      assert.equal((await post(own.url('/demo/async'), fits)).status, 303);
      assert.deepEqual(staged(), []);
    } finally {
      await own.close();
    }
  });
});
