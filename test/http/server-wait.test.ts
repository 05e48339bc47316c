import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { eventually, get, type Harness, post, startHarness } from './harness.js';
import { xpathString } from './xmllint.js';

/** The WAIT cap of this file's server; "at once" means well under it (bounds are generous: CI is slow). */
const CAP_S = 3;
const AT_ONCE_MS = 2000;
let h: Harness;
before(async () => {
  h = await startHarness({ server: { maxWaitSeconds: CAP_S } });
});
after(() => h.close());

const jobUrl = (id: string) => h.url(`/demo/async/${id}`);

async function phaseOf(res: Response): Promise<string> {
  assert.equal(res.status, 200);
  return xpathString(await res.text(), '//*[local-name()="phase"]');
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await work();
  return { value, ms: Date.now() - start };
}

describe('blocking GET (WAIT)', () => {
  it('WAIT-2, WAIT-3, WAIT-11: a WAIT returns the job document as soon as the phase changes', async () => {
    const id = await h.create();
    const waiting = timed(() => get(`${jobUrl(id)}?WAIT=30`).then(phaseOf));
    await eventually(() => h.service.openWaits() === 1, 'the WAIT to be open');
    await h.move(id, 'QUEUED');
    const { value, ms } = await waiting;
    assert.equal(value, 'QUEUED');
    assert.ok(ms < AT_ONCE_MS, `took ${ms} ms, the cap is ${CAP_S} s`);
    assert.equal(h.service.openWaits(), 0);
  });

  it('WAIT-4: PENDING is active (it blocks); ended, SUSPENDED and HELD jobs answer at once', async () => {
    const pending = await h.create();
    const blocked = await timed(() => get(`${jobUrl(pending)}?WAIT=1`).then(phaseOf));
    assert.equal(blocked.value, 'PENDING');
    assert.ok(blocked.ms >= 900, `PENDING did not block (${blocked.ms} ms)`);
    for (const phase of ['COMPLETED', 'ERROR', 'ABORTED', 'SUSPENDED'] as const) {
      const id = await h.create();
      await h.move(
        id,
        phase,
        phase === 'ERROR' ? { errorSummary: { type: 'fatal', message: 'x', hasDetail: false } } : {},
      );
      const r = await timed(() => get(`${jobUrl(id)}?WAIT=30`).then(phaseOf));
      assert.equal(r.value, phase);
      assert.ok(r.ms < AT_ONCE_MS, `${phase} blocked for ${r.ms} ms`);
    }
    const held = await h.create();
    const job = (await h.store.get(held))!;
    await h.store.update(held, { version: job.version }, { phase: 'HELD' });
    const r = await timed(() => get(`${jobUrl(held)}?WAIT=30`).then(phaseOf));
    assert.equal(r.value, 'HELD');
    assert.ok(r.ms < AT_ONCE_MS);
  });

  it('WAIT-5: the server returns after WAIT seconds when nothing changes', async () => {
    const id = await h.create();
    await h.move(id, 'EXECUTING');
    const r = await timed(() => get(`${jobUrl(id)}?WAIT=1`).then(phaseOf));
    assert.equal(r.value, 'EXECUTING');
    assert.ok(r.ms >= 900 && r.ms < CAP_S * 1000 - 100, `${r.ms} ms`);
  });

  it('WAIT-7: with a PHASE guard that no longer matches the server answers at once; a matching guard blocks', async () => {
    const id = await h.create();
    await h.move(id, 'EXECUTING');
    const stale = await timed(() => get(`${jobUrl(id)}?WAIT=30&PHASE=QUEUED`).then(phaseOf));
    assert.equal(stale.value, 'EXECUTING');
    assert.ok(stale.ms < AT_ONCE_MS);
    const waiting = timed(() => get(`${jobUrl(id)}?wait=30&phase=executing`).then(phaseOf));
    await eventually(() => h.service.openWaits() === 1, 'the guarded WAIT to be open');
    await h.move(id, 'COMPLETED');
    assert.equal((await waiting).value, 'COMPLETED');
  });

  it('WAIT-6, WAIT-9, WAIT-10, AMB-5: WAIT=-1 and huge values are capped at maxWaitSeconds', async () => {
    const id = await h.create();
    for (const wait of ['-1', '86400', '99999999999999999999']) {
      const r = await timed(() => get(`${jobUrl(id)}?WAIT=${wait}`).then(phaseOf));
      assert.equal(r.value, 'PENDING');
      assert.ok(
        r.ms >= CAP_S * 1000 - 100 && r.ms < CAP_S * 1000 + 3000,
        `WAIT=${wait} took ${r.ms} ms, cap ${CAP_S} s`,
      );
    }
  });

  it('WAIT-12, AMB-5: WAIT=0 does not block; non-integer WAIT and unknown PHASE guards are 400', async () => {
    const id = await h.create();
    const r = await timed(() => get(`${jobUrl(id)}?WAIT=0`).then(phaseOf));
    assert.ok(r.ms < AT_ONCE_MS);
    for (const [query, name] of [
      ['WAIT=1.5', 'WAIT'],
      ['WAIT=', 'WAIT'],
      ['WAIT=soon', 'WAIT'],
      ['WAIT=1&WAIT=2', 'WAIT'],
      ['WAIT=5&PHASE=RUNNING', 'PHASE'],
    ] as const) {
      const res = await get(`${jobUrl(id)}?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(await res.text(), new RegExp(name));
    }
    // Without WAIT a PHASE parameter means nothing and is ignored.
    assert.equal((await get(`${jobUrl(id)}?PHASE=whatever`)).status, 200);
  });

  it('WAIT-8: a client that disconnects ends its WAIT and leaves nothing open (openWaits back to 0)', async () => {
    const id = await h.create();
    const requests = [1, 2, 3].map(() => {
      const req = http.get(`${jobUrl(id)}?WAIT=60`);
      req.on('error', () => {});
      return req;
    });
    await eventually(() => h.service.openWaits() === 3, 'three WAITs to be open');
    for (const req of requests) req.destroy();
    await eventually(() => h.service.openWaits() === 0, 'the WAITs to be released');
  });

  it('a deleted job ends a WAIT on it', async () => {
    const id = await h.create();
    const waiting = get(`${jobUrl(id)}?WAIT=30`);
    await eventually(() => h.service.openWaits() === 1, 'the WAIT to be open');
    const start = Date.now();
    assert.equal((await get(jobUrl(id), { method: 'DELETE' })).status, 303);
    const res = await waiting;
    assert.ok(Date.now() - start < AT_ONCE_MS);
    assert.ok(res.status === 200 || res.status === 404, String(res.status));
    await res.arrayBuffer();
    assert.equal(h.service.openWaits(), 0);
  });
});

describe('sync facade (SYNC)', () => {
  /** A tiny runner: whatever gets QUEUED is run to `outcome` after a short delay. */
  function runEverything(outcome: 'COMPLETED' | 'ERROR'): () => void {
    const seen = new Set<string>();
    return h.store.watch((change) => {
      if (change.phase !== 'QUEUED' || seen.has(change.jobId)) return;
      seen.add(change.jobId);
      setTimeout(async () => {
        await h.move(change.jobId, 'EXECUTING');
        if (outcome === 'COMPLETED') {
          await h.addResult(change.jobId, 'result', 'the answer: 42', 'text/plain');
          await h.move(change.jobId, 'COMPLETED');
        } else {
          await h.move(change.jobId, 'ERROR', {
            errorSummary: { type: 'fatal', message: 'no answer', hasDetail: true },
            errorDetail: 'no answer, at length',
          });
        }
      }, 200);
    });
  }

  it('SYNC-1, SYNC-2: POST /sync answers 303 to /sync/{id}, which answers 303 to the main result once done', async () => {
    const stop = runEverything('COMPLETED');
    try {
      const res = await post(h.url('/demo/sync'), { QUERY: 'what?' });
      assert.equal(res.status, 303);
      const syncUrl = res.headers.get('location')!;
      const id = syncUrl.split('/').pop()!;
      assert.equal(syncUrl, h.url(`/demo/sync/${id}`));
      const done = await get(syncUrl);
      assert.equal(done.status, 303);
      assert.equal(done.headers.get('location'), `${jobUrl(id)}/results/result`);
      // Following every redirect, as a client does, ends with the result itself.
      const followed = await fetch(h.url('/demo/sync?QUERY=again'));
      assert.equal(followed.status, 200);
      assert.equal(await followed.text(), 'the answer: 42');
    } finally {
      stop();
    }
  });

  it('SYNC-2: a failed sync job redirects to its /error', async () => {
    const stop = runEverything('ERROR');
    try {
      const followed = await fetch(h.url('/demo/sync'), {
        method: 'POST',
        body: new URLSearchParams({ QUERY: 'x' }),
      });
      assert.equal(followed.status, 200);
      assert.match(followed.url, /\/demo\/async\/[A-Za-z0-9_-]+\/error$/);
      assert.equal(await followed.text(), 'no answer, at length');
    } finally {
      stop();
    }
  });

  it('SYNC-2, WAIT-9: a sync job still running at the cap redirects back to itself', async () => {
    const res = await post(h.url('/demo/sync'), { QUERY: 'slow' });
    const syncUrl = res.headers.get('location')!;
    const r = await timed(() => get(syncUrl));
    assert.equal(r.value.status, 303);
    assert.equal(r.value.headers.get('location'), syncUrl);
    assert.ok(r.ms >= CAP_S * 1000 - 100, `${r.ms} ms`);
    assert.equal((await get(h.url('/demo/sync/unknown'))).status, 404);
    assert.equal((await post(h.url('/demo/sync'), { NOPE: '1' })).status, 400);
  });
});

describe('shutdown', () => {
  it('closing the server ends open WAITs at once', async () => {
    const own = await startHarness({ server: { maxWaitSeconds: 60 } });
    const id = await own.create();
    const waiting = get(`${own.url(`/demo/async/${id}`)}?WAIT=60`).catch(() => null);
    await eventually(() => own.service.openWaits() === 1, 'the WAIT to be open');
    const start = Date.now();
    await own.close();
    await waiting;
    assert.ok(Date.now() - start < 5000, `close took ${Date.now() - start} ms`);
    assert.equal(own.service.openWaits(), 0);
  });
});
