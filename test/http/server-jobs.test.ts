import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get, type Harness, post, startHarness } from './harness.js';
import { uwsSchemaErrors, wellFormedErrors, xpathString } from './xmllint.js';

let h: Harness;
before(async () => {
  h = await startHarness({
    server: {
      // Owner identification hook: the X-User header names the caller (tests only).
      identify: (request) => {
        const user = request.headers['x-user'];
        return { ownerId: typeof user === 'string' ? user : null };
      },
    },
  });
});
after(() => h.close());

const list = () => h.url('/demo/async');
const jobUrl = (id: string) => `${list()}/${id}`;

async function text(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; type: string; body: string }> {
  const res = await get(url, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('job list: create (JL-POST)', () => {
  it('JL-POST-1, JL-POST-2, HTTP-14, HTTP-15, URI-6: create answers exactly 303 with an absolute Location = list URL + / + id', async () => {
    const res = await post(list(), { QUERY: 'SELECT 1' });
    assert.equal(res.status, 303);
    const location = res.headers.get('location')!;
    assert.match(location, new RegExp(`^${list()}/[A-Za-z0-9_-]+$`));
    assert.ok(!location.endsWith('/'));
    const job = await get(location);
    assert.equal(job.status, 200);
  });

  it('JL-POST-4, OBJ-7: a plain create leaves the job PENDING', async () => {
    const id = await h.create({ QUERY: 'x' });
    assert.equal((await text(`${jobUrl(id)}/phase`)).body, 'PENDING');
  });

  it('JL-POST-6, AMB-20: PHASE=RUN in the query string of the creating POST queues the job at once', async () => {
    const res = await post(`${list()}?PHASE=RUN`, { QUERY: 'x' });
    assert.equal(res.status, 303);
    assert.equal((await text(`${res.headers.get('location')}/phase`)).body, 'QUEUED');
  });

  it('JL-POST-6: parameters from the query string and the body are both read', async () => {
    const res = await post(`${list()}?N=7`, { QUERY: 'from body' });
    const doc = (await text(res.headers.get('location')!)).body;
    assert.equal(await xpathString(doc, '//*[@id="N"]'), '7');
    assert.equal(await xpathString(doc, '//*[@id="QUERY"]'), 'from body');
  });

  it('JL-POST-7, PROP-1, OBJ-29: RUNID, EXECUTIONDURATION and DESTRUCTION at creation', async () => {
    const id = await h.create({
      runid: 'my run <1>',
      ExecutionDuration: '120',
      DESTRUCTION: '2099-01-01T00:00:00Z',
    });
    const doc = (await text(jobUrl(id))).body;
    assert.equal(await xpathString(doc, '//*[local-name()="runId"]'), 'my run <1>');
    assert.equal((await text(`${jobUrl(id)}/executionduration`)).body, '120');
    // DS-4: a destruction beyond the lifetime limit is clamped, not refused.
    const destruction = (await text(`${jobUrl(id)}/destruction`)).body;
    assert.ok(Date.parse(destruction) < Date.parse('2099-01-01T00:00:00Z'));
    // PAR-9: control parameters do not leak into the protocol parameters.
    const params = (await text(`${jobUrl(id)}/parameters`)).body;
    assert.equal(await xpathString(params, 'count(//*[local-name()="parameter"])'), '0');
  });

  it('DALI-10: a RUNID longer than 64 characters is refused with 400', async () => {
    const res = await text(list(), { method: 'POST', body: new URLSearchParams({ RUNID: 'r'.repeat(65) }) });
    assert.equal(res.status, 400);
    assert.match(res.body, /RUNID/);
  });

  it('JL-POST-5: a multipart/form-data create is accepted like a urlencoded one', async () => {
    const form = new FormData();
    form.append('QUERY', 'multi <part>');
    form.append('MODE', 'fast');
    const res = await post(list(), form);
    assert.equal(res.status, 303);
    const doc = (await text(res.headers.get('location')!)).body;
    assert.equal(await xpathString(doc, '//*[@id="QUERY"]'), 'multi <part>');
    assert.equal(await xpathString(doc, '//*[@id="MODE"]'), 'fast');
  });

  it('JL-POST-3, DALI-5, PAR-8: bad parameters give 400 naming them; names are case-insensitive, values are not', async () => {
    let r = await text(list(), { method: 'POST', body: new URLSearchParams({ NOPE: '1' }) });
    assert.equal(r.status, 400);
    assert.equal(r.type, 'text/plain; charset=utf-8');
    assert.match(r.body, /NOPE/);
    r = await text(list(), {
      method: 'POST',
      body: new URLSearchParams([
        ['QUERY', 'a'],
        ['query', 'b'],
      ]),
    });
    assert.equal(r.status, 400);
    assert.match(r.body, /QUERY.*single value/);
    r = await text(list(), { method: 'POST', body: new URLSearchParams({ mode: 'FAST' }) });
    assert.equal(r.status, 400);
    assert.match(r.body, /MODE/);
    r = await text(list(), { method: 'POST', body: new URLSearchParams({ n: 'many' }) });
    assert.equal(r.status, 400);
    assert.match(r.body, /N/);
    r = await text(`${list()}?PHASE=ABORT`, { method: 'POST' });
    assert.equal(r.status, 400);
    assert.match(r.body, /PHASE/);
    const id = await h.create({ query: 'lower-case name' });
    const doc = (await text(jobUrl(id))).body;
    assert.equal(await xpathString(doc, '//*[@id="QUERY"]'), 'lower-case name');
  });

  it('415 for a body that is neither form encoding', async () => {
    const r = await text(list(), {
      method: 'POST',
      body: '{"QUERY":1}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 415);
  });
});

describe('job list: GET (JL-GET)', () => {
  let ids: Record<string, string>;
  const owner = { headers: { 'x-user': 'lister' } };
  before(async () => {
    // A separate owner so that the other tests' jobs do not show up (AMB-21).
    const make = async (runId: string) => {
      const res = await post(list(), { RUNID: runId }, owner);
      await res.arrayBuffer();
      const id = res.headers.get('location')!.split('/').pop()!;
      await new Promise((r) => setTimeout(r, 3)); // distinct creation times
      return id;
    };
    ids = {
      pending: await make('p'),
      queued: await make('q'),
      executing: await make('e'),
      completed: await make('c'),
      archived: await make('a'),
    };
    await h.move(ids.queued!, 'QUEUED');
    await h.move(ids.executing!, 'EXECUTING');
    await h.move(ids.completed!, 'COMPLETED');
    await h.move(ids.archived!, 'ARCHIVED');
  });

  async function listed(query: string): Promise<string[]> {
    const res = await text(`${list()}${query}`, owner);
    assert.equal(res.status, 200, res.body);
    const n = Number(await xpathString(res.body, 'count(//*[local-name()="jobref"])'));
    const out: string[] = [];
    for (let i = 1; i <= n; i++)
      out.push(await xpathString(res.body, `(//*[local-name()="jobref"])[${i}]/@id`));
    return out;
  }

  it('JL-GET-1, JL-GET-2, JL-GET-14, HTTP-10: a valid <jobs version="1.1"> with phase, runId, ownerId and creationTime', async () => {
    const res = await text(list(), owner);
    assert.equal(res.status, 200);
    assert.equal(res.type, 'text/xml; charset=utf-8');
    assert.deepEqual(await uwsSchemaErrors({ list: res.body }), []);
    assert.match(res.body, /<uws:jobs [^>]*version="1\.1"/);
    assert.match(res.body, /<uws:ownerId>lister<\/uws:ownerId>/);
    assert.match(res.body, /<uws:creationTime>/);
    assert.equal(
      await xpathString(res.body, `//*[@id="${ids.pending}"]/@*[local-name()="href"]`),
      jobUrl(ids.pending!),
    );
  });

  it('JL-GET-3, JL-GET-11, JL-GET-15: all the caller’s jobs but ARCHIVED, newest first, nobody else’s', async () => {
    assert.deepEqual(await listed(''), [ids.completed, ids.executing, ids.queued, ids.pending]);
    const other = await text(list(), { headers: { 'x-user': 'someone-else' } });
    assert.equal(Number(await xpathString(other.body, 'count(//*[local-name()="jobref"])')), 0);
  });

  it('JL-GET-4, JL-GET-5, JL-GET-6, JL-GET-12, AMB-7: PHASE filters; repeated is a union; ARCHIVED only when asked; any case', async () => {
    assert.deepEqual(await listed('?PHASE=EXECUTING'), [ids.executing]);
    assert.deepEqual(await listed('?PHASE=QUEUED&PHASE=EXECUTING'), [ids.executing, ids.queued]);
    assert.deepEqual(await listed('?phase=queued&Phase=Pending'), [ids.queued, ids.pending]);
    assert.deepEqual(await listed('?PHASE=ARCHIVED'), [ids.archived]);
  });

  it('JL-GET-7, JL-GET-8, JL-GET-9, AMB-8, AMB-9: AFTER is strictly later creationTime; LAST keeps the n newest; they combine', async () => {
    const doc = (await text(jobUrl(ids.queued!), owner)).body;
    const created = await xpathString(doc, '//*[local-name()="creationTime"]');
    assert.deepEqual(await listed(`?AFTER=${encodeURIComponent(created)}`), [ids.completed, ids.executing]);
    assert.deepEqual(await listed('?LAST=2'), [ids.completed, ids.executing]);
    assert.deepEqual(
      await listed(`?last=1&after=${encodeURIComponent(created)}&PHASE=EXECUTING&PHASE=PENDING`),
      [ids.executing],
    );
    // TIME-3: partial dates and offsets are accepted (and normalised to UTC).
    assert.deepEqual(await listed('?AFTER=2000'), [ids.completed, ids.executing, ids.queued, ids.pending]);
    assert.equal((await listed('?AFTER=2000-01-01T00:00:00%2B01:00')).length, 4);
    assert.equal((await listed('?AFTER=2999-01-01')).length, 0);
  });

  it('JL-GET-13: an unknown phase, LAST <= 0 or not a number, or a bad AFTER give 400 naming the parameter', async () => {
    for (const [query, name] of [
      ['?PHASE=RUNNING', 'PHASE'],
      ['?PHASE=', 'PHASE'],
      ['?LAST=0', 'LAST'],
      ['?LAST=-3', 'LAST'],
      ['?LAST=ten', 'LAST'],
      ['?AFTER=yesterday', 'AFTER'],
      ['?AFTER=2020-13-01', 'AFTER'],
      ['?LAST=1&LAST=2', 'LAST'],
    ] as const) {
      const res = await text(`${list()}${query}`, owner);
      assert.equal(res.status, 400, query);
      assert.match(res.body, new RegExp(name), query);
    }
  });

  it('JSON rendering of the job list for Accept: application/json', async () => {
    const res = await text(list(), { headers: { ...owner.headers, accept: 'application/json' } });
    assert.equal(res.type, 'application/json; charset=utf-8');
    const doc = JSON.parse(res.body);
    assert.equal(doc.version, '1.1');
    assert.deepEqual(
      doc.jobs.map((j: { id: string }) => j.id),
      [ids.completed, ids.executing, ids.queued, ids.pending],
    );
    assert.equal(doc.jobs[0].href, jobUrl(ids.completed!));
    // Browsers' Accept (XML at 0.9, */* at 0.8) still get XML (HTTP-8).
    const browser = await text(list(), {
      headers: {
        ...owner.headers,
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      },
    });
    assert.equal(browser.type, 'text/xml; charset=utf-8');
  });
});

describe('the job resource', () => {
  it('JOB-GET-1, JOB-GET-2, HTTP-7: 200 with a valid <job version="1.1">', async () => {
    const id = await h.create({ QUERY: 'q' });
    const res = await text(jobUrl(id));
    assert.equal(res.status, 200);
    assert.equal(res.type, 'text/xml; charset=utf-8');
    assert.match(res.body, /<uws:job [^>]*version="1\.1"/);
    assert.deepEqual(await uwsSchemaErrors({ job: res.body }), []);
  });

  it('JOB-GET-4, HTTP-2, HTTP-12, DALI-16: unknown job 404 on every resource; another owner’s job 403', async () => {
    for (const suffix of [
      '',
      '/phase',
      '/results',
      '/parameters',
      '/error',
      '/quote',
      '/owner',
      '/results/result',
    ]) {
      const res = await text(`${list()}/nosuchjob${suffix}`);
      assert.equal(res.status, 404, suffix);
      assert.match(res.body, /no job|no resource/);
    }
    assert.equal((await text(`${list()}/${'x'.repeat(900)}`)).status, 404);
    const res = await post(list(), { QUERY: 'mine' }, { headers: { 'x-user': 'alice' } });
    const url = res.headers.get('location')!;
    assert.equal((await text(url, { headers: { 'x-user': 'alice' } })).status, 200);
    const bob = await text(url, { headers: { 'x-user': 'bob' } });
    assert.equal(bob.status, 403);
    assert.match(bob.body, /another owner/);
    assert.equal((await text(`${url}/phase`, { headers: { 'x-user': 'bob' } })).status, 403);
    assert.equal((await text(url)).status, 403);
  });

  it('HTTP-13, OWN-1, OWN-2, AMB-15: /owner is the authenticated identity, or an empty string', async () => {
    const res = await post(list(), {}, { headers: { 'x-user': 'ivo://example.org/users#carol' } });
    const url = res.headers.get('location')!;
    const owner = await text(`${url}/owner`, { headers: { 'x-user': 'ivo://example.org/users#carol' } });
    assert.deepEqual(
      [owner.status, owner.type, owner.body],
      [200, 'text/plain; charset=utf-8', 'ivo://example.org/users#carol'],
    );
    const id = await h.create();
    const anon = await text(`${jobUrl(id)}/owner`);
    assert.deepEqual([anon.status, anon.body], [200, '']);
    assert.match((await text(jobUrl(id))).body, /<uws:ownerId xsi:nil="true"\/>/);
  });

  it('DEL-1, DEL-2, DEL-5: DELETE answers 303 to the job list, then the job is 404', async () => {
    const id = await h.create({ QUERY: 'q' });
    await h.move(id, 'EXECUTING');
    const res = await get(jobUrl(id), { method: 'DELETE' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), list());
    assert.equal((await text(jobUrl(id))).status, 404);
    assert.equal(await h.store.get(id), null);
  });

  it('DEL-4, DALI-1: POST ACTION=DELETE (any case) answers 303 to the job list, then 404', async () => {
    for (const body of [{ ACTION: 'DELETE' }, { action: 'delete' }] as Record<string, string>[]) {
      const id = await h.create();
      const res = await post(jobUrl(id), body);
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), list());
      assert.equal((await text(jobUrl(id))).status, 404);
    }
    assert.equal((await post(`${list()}/nosuchjob`, { ACTION: 'DELETE' })).status, 404);
  });

  it('DEL-6, JOB-POST-1, DALI-3, AMB-12: other ACTIONs and parameters POSTed to the job URL get 400', async () => {
    const id = await h.create({ QUERY: 'before' });
    let res = await text(jobUrl(id), { method: 'POST', body: new URLSearchParams({ ACTION: 'ARCHIVE' }) });
    assert.equal(res.status, 400);
    assert.match(res.body, /ACTION=ARCHIVE/);
    res = await text(jobUrl(id), { method: 'POST', body: new URLSearchParams({ QUERY: 'after' }) });
    assert.equal(res.status, 400);
    assert.match(res.body, /QUERY.*\/parameters/);
    assert.equal(await xpathString((await text(jobUrl(id))).body, '//*[@id="QUERY"]'), 'before');
  });

  it('JSON rendering of the job for Accept: application/json', async () => {
    const id = await h.create({ QUERY: 'json' });
    const res = await text(jobUrl(id), { headers: { accept: 'application/json' } });
    assert.equal(res.type, 'application/json; charset=utf-8');
    const doc = JSON.parse(res.body);
    assert.equal(doc.jobId, id);
    assert.equal(doc.phase, 'PENDING');
    assert.equal(doc.href, jobUrl(id));
    assert.deepEqual(doc.parameters, [{ id: 'QUERY', value: 'json', byReference: false }]);
    const xml = (await text(jobUrl(id))).body;
    assert.equal(doc.creationTime, await xpathString(xml, '//*[local-name()="creationTime"]'));
  });
});

describe('phase (PH)', () => {
  it('PH-1, PH-9: /phase is text/plain without a line end and agrees with the job document and the list', async () => {
    const id = await h.create();
    await h.move(id, 'EXECUTING');
    const phase = await text(`${jobUrl(id)}/phase`);
    assert.deepEqual([phase.status, phase.type, phase.body], [200, 'text/plain; charset=utf-8', 'EXECUTING']);
    assert.equal(await xpathString((await text(jobUrl(id))).body, '//*[local-name()="phase"]'), 'EXECUTING');
    const listed = (await text(`${list()}?PHASE=EXECUTING`)).body;
    assert.equal(await xpathString(listed, `//*[@id="${id}"]/*[local-name()="phase"]`), 'EXECUTING');
  });

  it('PH-2, PH-3, PH-4: PHASE=RUN answers 303 to the job, which is QUEUED at once', async () => {
    const id = await h.create();
    const res = await post(`${jobUrl(id)}/phase`, { PHASE: 'RUN' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), jobUrl(id));
    assert.equal((await text(`${jobUrl(id)}/phase`)).body, 'QUEUED');
  });

  it('PH-5, PH-6, PROP-3: PHASE=ABORT answers 303; the job is ABORTED with an endTime', async () => {
    const id = await h.create();
    await h.move(id, 'EXECUTING');
    const res = await post(`${jobUrl(id)}/phase`, { phase: 'abort' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), jobUrl(id));
    const doc = (await text(jobUrl(id))).body;
    assert.equal(await xpathString(doc, '//*[local-name()="phase"]'), 'ABORTED');
    assert.match(
      await xpathString(doc, '//*[local-name()="endTime"]'),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    );
  });

  it('PH-7, PH-8, AMB-2, AMB-3: RUN any case; RUN when queued is a 303 no-op; RUN when ended 403; ABORT when ended 303; others 400', async () => {
    const id = await h.create();
    assert.equal((await post(`${jobUrl(id)}/phase`, { PHASE: 'run' })).status, 303);
    assert.equal((await post(`${jobUrl(id)}/phase`, { PHASE: 'RUN' })).status, 303);
    assert.equal((await text(`${jobUrl(id)}/phase`)).body, 'QUEUED');
    await h.move(id, 'COMPLETED');
    const run = await text(`${jobUrl(id)}/phase`, {
      method: 'POST',
      body: new URLSearchParams({ PHASE: 'RUN' }),
    });
    assert.equal(run.status, 403);
    assert.match(run.body, /COMPLETED/);
    assert.equal((await post(`${jobUrl(id)}/phase`, { PHASE: 'ABORT' })).status, 303);
    assert.equal((await text(`${jobUrl(id)}/phase`)).body, 'COMPLETED');
    for (const value of ['SUSPEND', 'ABORTED', 'HOLD', '']) {
      const res = await text(`${jobUrl(id)}/phase`, {
        method: 'POST',
        body: new URLSearchParams({ PHASE: value }),
      });
      assert.equal(res.status, 400, value);
      assert.match(res.body, /PHASE/);
    }
    const missing = await text(`${jobUrl(id)}/phase`, { method: 'POST', body: new URLSearchParams({}) });
    assert.equal(missing.status, 400);
    assert.match(missing.body, /PHASE is missing/);
  });
});

describe('executionduration, destruction, quote (ED, DS, Q)', () => {
  it('ED-1, ED-2, ED-3: integer text/plain equal to the job document; POST answers 303 and changes it', async () => {
    const id = await h.create();
    const ed = await text(`${jobUrl(id)}/executionduration`);
    assert.deepEqual([ed.status, ed.type, ed.body], [200, 'text/plain; charset=utf-8', '600']);
    const res = await post(`${jobUrl(id)}/executionduration`, { EXECUTIONDURATION: '30' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), jobUrl(id));
    assert.equal((await text(`${jobUrl(id)}/executionduration`)).body, '30');
    assert.equal(
      await xpathString((await text(jobUrl(id))).body, '//*[local-name()="executionDuration"]'),
      '30',
    );
  });

  it('ED-4, ED-5, AMB-14: above the maximum is clamped; pyvo floats accepted; garbage 400; not PENDING 403', async () => {
    const id = await h.create();
    assert.equal(
      (await post(`${jobUrl(id)}/executionduration`, { executionduration: '99999999999' })).status,
      303,
    );
    assert.equal((await text(`${jobUrl(id)}/executionduration`)).body, '3600');
    assert.equal((await post(`${jobUrl(id)}/executionduration`, { EXECUTIONDURATION: '600.0' })).status, 303);
    assert.equal((await text(`${jobUrl(id)}/executionduration`)).body, '600');
    const bad = await text(`${jobUrl(id)}/executionduration`, {
      method: 'POST',
      body: new URLSearchParams({ EXECUTIONDURATION: 'soon' }),
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /EXECUTIONDURATION/);
    const none = await text(`${jobUrl(id)}/executionduration`, {
      method: 'POST',
      body: new URLSearchParams(),
    });
    assert.equal(none.status, 400);
    await h.move(id, 'QUEUED');
    assert.equal((await post(`${jobUrl(id)}/executionduration`, { EXECUTIONDURATION: '10' })).status, 403);
  });

  it('DS-1, DS-2, DS-3, DS-5, TIME-4: /destruction text equals the job document; POST (pyvo microseconds) answers 303', async () => {
    const id = await h.create();
    const target = new Date(Date.now() + 3_600_000);
    const pyvo = `${target.toISOString().slice(0, 19)}.123456Z`;
    const res = await post(`${jobUrl(id)}/destruction`, { DESTRUCTION: pyvo });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), jobUrl(id));
    const ds = await text(`${jobUrl(id)}/destruction`);
    assert.deepEqual([ds.status, ds.type], [200, 'text/plain; charset=utf-8']);
    assert.equal(ds.body, `${target.toISOString().slice(0, 19)}.123Z`);
    assert.equal(
      await xpathString((await text(jobUrl(id))).body, '//*[local-name()="destruction"]'),
      ds.body,
    );
    const bad = await text(`${jobUrl(id)}/destruction`, {
      method: 'POST',
      body: new URLSearchParams({ DESTRUCTION: 'never' }),
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /DESTRUCTION/);
  });

  it('DS-4: a destruction later than the lifetime allows is clamped', async () => {
    const id = await h.create();
    assert.equal((await post(`${jobUrl(id)}/destruction`, { DESTRUCTION: '2999-01-01' })).status, 303);
    const ds = Date.parse((await text(`${jobUrl(id)}/destruction`)).body);
    assert.ok(ds < Date.parse('2999-01-01') && ds > Date.now());
  });

  it('Q-1, Q-2, Q-3, OBJ-26: /quote is an empty string when unknown (xsi:nil in XML); POST is 405', async () => {
    const id = await h.create();
    const q = await text(`${jobUrl(id)}/quote`);
    assert.deepEqual([q.status, q.type, q.body], [200, 'text/plain; charset=utf-8', '']);
    assert.match((await text(jobUrl(id))).body, /<uws:quote xsi:nil="true"\/>/);
    const res = await post(`${jobUrl(id)}/quote`, { QUOTE: '2030-01-01' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS');
  });
});

describe('error, results, parameters', () => {
  it('ERR-1, ERR-2, ERR-3, ERR-4, HTTP-5, DALI-17: a failed job answers 200 with ERROR and errorSummary; /error 200 text', async () => {
    const id = await h.create();
    await h.move(id, 'ERROR', {
      errorSummary: { type: 'fatal', message: 'division by zero', hasDetail: true },
      errorDetail: 'Traceback:\n  line 1: division by zero',
    });
    const doc = await text(jobUrl(id));
    assert.equal(doc.status, 200);
    assert.match(doc.body, /<uws:errorSummary type="fatal" hasDetail="true">/);
    assert.equal(await xpathString(doc.body, '//*[local-name()="message"]'), 'division by zero');
    const err = await text(`${jobUrl(id)}/error`);
    assert.deepEqual(
      [err.status, err.type, err.body],
      [200, 'text/plain; charset=utf-8', 'Traceback:\n  line 1: division by zero'],
    );
  });

  it('ERR-5, AMB-16, DALI-16: /error of a job that has not failed is 404', async () => {
    const id = await h.create();
    assert.equal((await text(`${jobUrl(id)}/error`)).status, 404);
    await h.move(id, 'COMPLETED');
    assert.equal((await text(`${jobUrl(id)}/error`)).status, 404);
  });

  it('RES-1..4, RES-8, DALI-14: results list with absolute unique hrefs, size and mime-type', async () => {
    const id = await h.create();
    await h.move(id, 'EXECUTING');
    await h.addResult(id, 'result', '<VOTABLE/>', 'application/x-votable+xml');
    await h.addResult(id, 'log', 'a log', 'text/plain');
    await h.move(id, 'COMPLETED');
    const res = await text(`${jobUrl(id)}/results`);
    assert.equal(res.status, 200);
    assert.equal(res.type, 'text/xml; charset=utf-8');
    assert.deepEqual(await uwsSchemaErrors({ results: res.body }), []);
    assert.equal(
      await xpathString(res.body, '//*[@id="result"]/@*[local-name()="href"]'),
      `${jobUrl(id)}/results/result`,
    );
    assert.equal(await xpathString(res.body, '//*[@id="result"]/@size'), '10');
    assert.equal(await xpathString(res.body, '//*[@id="log"]/@mime-type'), 'text/plain');
    const json = JSON.parse(
      (await text(`${jobUrl(id)}/results`, { headers: { accept: 'application/json' } })).body,
    );
    assert.deepEqual(json.results[0], {
      id: 'result',
      href: `${jobUrl(id)}/results/result`,
      size: 10,
      mimeType: 'application/x-votable+xml',
    });
  });

  it('RES-10, DALI-13: results/{id} streams the bytes with Content-Type and Content-Length; external results 303; unknown 404', async () => {
    const id = await h.create();
    await h.move(id, 'EXECUTING');
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
    await h.addResult(id, 'result', bytes, 'application/octet-stream');
    const job = (await h.store.get(id))!;
    await h.store.update(
      id,
      { version: job.version },
      {
        addResults: [
          { id: 'elsewhere', mediaType: 'text/html', size: null, href: 'https://example.org/x?a=1' },
        ],
      },
    );
    const res = await get(`${jobUrl(id)}/results/result`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(res.headers.get('content-length'), '70000');
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes);
    const head = await get(`${jobUrl(id)}/results/result`, { method: 'HEAD' });
    assert.deepEqual(
      [head.status, head.headers.get('content-length'), await head.text()],
      [200, '70000', ''],
    );
    const ext = await get(`${jobUrl(id)}/results/elsewhere`);
    assert.equal(ext.status, 303);
    assert.equal(ext.headers.get('location'), 'https://example.org/x?a=1');
    assert.equal((await text(`${jobUrl(id)}/results/nothing`)).status, 404);
  });

  it('RES-7, DEL-3, OBJ-30: results, parameters and the job list cannot be written or deleted: 405 with Allow', async () => {
    const id = await h.create();
    for (const [url, method, allow] of [
      [`${jobUrl(id)}/results`, 'POST', 'GET, HEAD, OPTIONS'],
      [`${jobUrl(id)}/results`, 'DELETE', 'GET, HEAD, OPTIONS'],
      [`${jobUrl(id)}/results/result`, 'PUT', 'GET, HEAD, OPTIONS'],
      [`${jobUrl(id)}/parameters`, 'DELETE', 'GET, POST, HEAD, OPTIONS'],
      [list(), 'DELETE', 'GET, POST, HEAD, OPTIONS'],
    ] as const) {
      const res = await get(url, { method });
      assert.equal(res.status, 405, `${method} ${url}`);
      assert.equal(res.headers.get('allow'), allow);
      assert.match(await res.text(), new RegExp(`${method} is not allowed`));
    }
  });

  it('PAR-1, PAR-5, PAR-6, AMB-10, DALI-4: POST /parameters while PENDING adds and replaces (303); later 403', async () => {
    const id = await h.create({ QUERY: 'old', N: '1' });
    const res = await post(`${jobUrl(id)}/parameters`, { query: 'new', MODE: 'slow', RUNID: 'renamed' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), jobUrl(id));
    const params = await text(`${jobUrl(id)}/parameters`);
    assert.equal(params.type, 'text/xml; charset=utf-8');
    assert.deepEqual(await uwsSchemaErrors({ params: params.body }), []);
    assert.equal(await xpathString(params.body, '//*[@id="QUERY"]'), 'new');
    assert.equal(await xpathString(params.body, '//*[@id="N"]'), '1');
    assert.equal(await xpathString(params.body, '//*[@id="MODE"]'), 'slow');
    assert.equal(await xpathString((await text(jobUrl(id))).body, '//*[local-name()="runId"]'), 'renamed');
    const bad = await text(`${jobUrl(id)}/parameters`, {
      method: 'POST',
      body: new URLSearchParams({ N: '1000' }),
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /N/);
    await h.move(id, 'QUEUED');
    const late = await text(`${jobUrl(id)}/parameters`, {
      method: 'POST',
      body: new URLSearchParams({ QUERY: 'late' }),
    });
    assert.equal(late.status, 403);
    assert.match(late.body, /PENDING/);
  });

  it('PAR-2, XML-12: an inline value XML cannot hold goes by reference and is served back exactly', async () => {
    const value = 'bell\u0007 and NUL-free <&> text\u001b[0m';
    const id = await h.create({ QUERY: value, TAG: 'plain' });
    const params = (await text(`${jobUrl(id)}/parameters`)).body;
    assert.deepEqual(await uwsSchemaErrors({ params }), []);
    assert.equal(await xpathString(params, '//*[@id="QUERY"]/@byReference'), 'true');
    const ref = await xpathString(params, '//*[@id="QUERY"]');
    assert.equal(ref, `${jobUrl(id)}/parameters/QUERY`);
    const served = await text(ref);
    assert.deepEqual([served.status, served.body], [200, value]);
    assert.equal((await text(`${jobUrl(id)}/parameters/TAG`)).body, 'plain');
    assert.equal((await text(`${jobUrl(id)}/parameters/NOPE`)).status, 404);
    assert.equal((await text(`${jobUrl(id)}/parameters/TAG?index=5`)).status, 404);
  });
});

describe('HTTP plumbing', () => {
  it('405 with Allow for every wrong method on every resource; OPTIONS lists the methods', async () => {
    const id = await h.create();
    const resources: [string, string[]][] = [
      [list(), ['GET', 'POST']],
      [jobUrl(id), ['GET', 'POST', 'DELETE']],
      [`${jobUrl(id)}/phase`, ['GET', 'POST']],
      [`${jobUrl(id)}/executionduration`, ['GET', 'POST']],
      [`${jobUrl(id)}/destruction`, ['GET', 'POST']],
      [`${jobUrl(id)}/error`, ['GET']],
      [`${jobUrl(id)}/quote`, ['GET']],
      [`${jobUrl(id)}/owner`, ['GET']],
      [`${jobUrl(id)}/results`, ['GET']],
      [`${jobUrl(id)}/results/x`, ['GET']],
      [`${jobUrl(id)}/parameters`, ['GET', 'POST']],
      [`${jobUrl(id)}/parameters/x`, ['GET']],
      [h.url('/demo/capabilities'), ['GET']],
      [h.url('/demo/availability'), ['GET']],
      [h.url('/demo/sync'), ['GET', 'POST']],
      [h.url('/'), ['GET']],
    ];
    for (const [url, allowed] of resources) {
      const allow = [...allowed, 'HEAD', 'OPTIONS'].join(', ');
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']) {
        if (allowed.includes(method)) continue;
        const res = await get(url, { method });
        assert.equal(res.status, 405, `${method} ${url}`);
        assert.equal(res.headers.get('allow'), allow, `${method} ${url}`);
        await res.arrayBuffer();
      }
      const options = await get(url, { method: 'OPTIONS' });
      assert.equal(options.status, 204);
      assert.equal(options.headers.get('allow'), allow);
    }
    assert.equal((await get(jobUrl(id))).status, 200); // the DELETE above was refused, not done
  });

  it('HTTP-2, DALI-21: unknown routes, job types and the absent /examples are 404 with a text message', async () => {
    for (const p of [
      '/nothing',
      '/other/async',
      '/demo/async/',
      '/demo/async/x/unknown',
      '/demo/async/x/results/a/b',
    ]) {
      const res = await text(h.url(p));
      assert.equal(res.status, 404, p);
      assert.equal(res.type, 'text/plain; charset=utf-8');
    }
  });

  it('GET / lists the job lists, their URLs and parameter declarations: JSON by default, HTML for browsers', async () => {
    const res = await text(h.url('/'));
    assert.equal(res.type, 'application/json; charset=utf-8');
    const doc = JSON.parse(res.body);
    assert.equal(doc.jobTypes[0].name, 'demo');
    assert.equal(doc.jobTypes[0].jobList, list());
    assert.deepEqual(
      doc.jobTypes[0].parameters.map((p: { name: string }) => p.name),
      ['QUERY', 'N', 'MODE', 'UPLOAD', 'DATA', 'TAG'],
    );
    const html = await text(h.url('/'), { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(html.type, 'text/html; charset=utf-8');
    assert.match(html.body, new RegExp(`<form method="post" action="${list()}"`));
    assert.match(html.body, /name="QUERY"/);
  });

  it('DALI-22, DALI-23, DALI-24, VER-1: VOSI capabilities and availability are well-formed siblings of /async', async () => {
    const caps = await text(h.url('/demo/capabilities'));
    assert.equal(caps.status, 200);
    assert.equal(caps.type, 'text/xml; charset=utf-8');
    assert.equal(await wellFormedErrors(caps.body), '');
    assert.match(caps.body, /standardID="ivo:\/\/ivoa\.net\/std\/UWS#rest-1\.1"/);
    assert.match(caps.body, /standardID="ivo:\/\/ivoa\.net\/std\/VOSI#availability"/);
    assert.ok(caps.body.includes(`<accessURL use="base">${list()}</accessURL>`));
    const avail = await text(h.url('/demo/availability'));
    assert.equal(avail.status, 200);
    assert.equal(await wellFormedErrors(avail.body), '');
    assert.match(avail.body, /<vosi:available>true<\/vosi:available>/);
  });

  it('the text endpoints and XML documents of one job all use the same instants (TIME-2, TIME-4)', async () => {
    const id = await h.create();
    const doc = (await text(jobUrl(id))).body;
    const destruction = await xpathString(doc, '//*[local-name()="destruction"]');
    assert.match(destruction, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal((await text(`${jobUrl(id)}/destruction`)).body, destruction);
  });
});
