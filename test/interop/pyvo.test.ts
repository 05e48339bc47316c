import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/tmp.js';
import {
  describeFailures,
  type InteropServer,
  missingProgram,
  runClient,
  skipUnlessInstalled,
  startInteropServer,
  votableRows,
} from './server.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'interop-pyvo.py');

/** Whether Debian's python3-pyvo is importable by /usr/bin/python3 (null), or why not. */
async function pyvoMissing(): Promise<string | null> {
  const missing = missingProgram(PYTHON);
  if (missing) return missing;
  const probe = await runClient(PYTHON, ['-c', 'import pyvo'], 60_000);
  return probe.code === 0 ? null : 'python3-pyvo is not installed (apt-get install python3-pyvo)';
}

describe('pyvo (Debian python3-pyvo) against a real server', { timeout: 180_000 }, async () => {
  const skip = skipUnlessInstalled(await pyvoMissing());
  let server: InteropServer;

  before(async () => {
    if (!skip) server = await startInteropServer('pyvo');
  });
  after(async () => {
    await server?.stop();
  });

  it('runs the whole async cycle through AsyncTAPJob and pyvo.io.uws', { skip }, async () => {
    const { code, steps, stderr } = await runClient(PYTHON, [SCRIPT, server.url], 150_000);
    const byName = new Map(steps.map((s) => [s.step, s]));
    for (const s of steps) {
      // Each pyvo call and what came of it, in the test log.
      console.log(`pyvo: ${s.ok ? 'ok  ' : 'FAIL'} ${s.step}${s.ok ? '' : ` — ${s.error}`}`);
    }
    assert.equal(code, 0, describeFailures(steps, stderr));
    assert.equal(steps.length, 13, `expected 13 step reports, got ${steps.map((s) => s.step).join(' | ')}`);
    assert.ok(steps.every((s) => s.ok));

    // pyvo's reading of the VOTable equals the document the server sends for the
    // same parameters (the generator is deterministic in SEED).
    const create = await fetch(`${server.url}/catalogue/async`, {
      method: 'POST',
      body: new URLSearchParams({ ROWS: '25', SEED: '7', PHASE: 'RUN' }),
      redirect: 'manual',
    });
    assert.equal(create.status, 303);
    const jobUrl = create.headers.get('location')!;
    const done = await (await fetch(`${jobUrl}?WAIT=30&PHASE=QUEUED`)).text();
    const waited = done.includes('<uws:phase>COMPLETED</uws:phase>')
      ? done
      : await (await fetch(`${jobUrl}?WAIT=30&PHASE=EXECUTING`)).text();
    assert.match(waited, /<uws:phase>COMPLETED<\/uws:phase>/);
    const expected = votableRows(await (await fetch(`${jobUrl}/results/result`)).text());
    const seenByPyvo = byName.get('job.fetch_result(): the VOTable rows')?.['rows'] as number[][];
    assert.equal(seenByPyvo.length, 25);
    assert.deepEqual(seenByPyvo, expected);

    // pyvo waited with blocking WAIT (UWS 1.1), not by polling.
    assert.ok(
      server.requests.some((r) => r.method === 'GET' && /[?&]WAIT=-1(&|$)/.test(r.url)),
      'pyvo never sent WAIT=-1',
    );
    // The job list filters arrived as pyvo sends them.
    const listQueries = server.requests.filter((r) => /^\/catalogue\/async\?/.test(r.url)).map((r) => r.url);
    for (const p of ['PHASE=COMPLETED', 'LAST=1', 'AFTER=']) {
      assert.ok(
        listQueries.some((u) => u.includes(p)),
        `no job list request with ${p}: ${listQueries.join(' ')}`,
      );
    }
  });
});
