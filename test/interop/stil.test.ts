import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
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

const JAVA = '/usr/bin/java';
/** Debian's stilts package; its manifest puts the rest of STIL on the class path. */
const STIL_JAR = '/usr/share/java/starlink-ttools.jar';
const DRIVER = path.join(REPO_ROOT, 'scripts', 'interop-stil.java');
/** Enough rows that the job is still QUEUED or EXECUTING when STIL starts waiting. */
const ROWS = 200_000;

function stilMissing(): string | null {
  return (
    missingProgram(JAVA) ??
    missingProgram('/usr/bin/stilts') ??
    (existsSync(STIL_JAR) ? null : `${STIL_JAR} is missing (apt-get install stilts)`)
  );
}

describe('STIL (Debian stilts, the UWS client inside TOPCAT) against a real server', {
  timeout: 240_000,
}, () => {
  const skip = skipUnlessInstalled(stilMissing());
  let server: InteropServer;

  before(async () => {
    if (!skip) server = await startInteropServer('stil');
  });
  after(async () => {
    await server?.stop();
  });

  it('UwsJob creates, tunes, starts and follows a job with WAIT, then reads its VOTable', {
    skip,
  }, async () => {
    const { code, steps, stderr } = await runClient(
      JAVA,
      ['-cp', STIL_JAR, DRIVER, server.url, String(ROWS)],
      200_000,
    );
    for (const s of steps)
      console.log(`STIL: ${s.ok ? 'ok  ' : 'FAIL'} ${s.step}${s.ok ? '' : ` — ${s.error}`}`);
    assert.equal(code, 0, describeFailures(steps, stderr));
    assert.equal(steps.length, 7, `expected 7 step reports, got ${steps.map((s) => s.step).join(' | ')}`);
    const read = steps.find((s) => s.step === 'read the result VOTable with STIL');
    assert.equal(read?.['rows'], ROWS);

    // STIL followed the job with blocking WAITs guarded by the last phase it saw.
    const waits = server.requests.filter((r) => r.method === 'GET' && /[?&]WAIT=/.test(r.url));
    assert.ok(waits.length >= 1, 'STIL sent no WAIT');
    assert.ok(
      waits.every((r) => /[?&]PHASE=(PENDING|QUEUED|EXECUTING)(&|$)/.test(r.url)),
      `WAIT without an active PHASE guard: ${waits.map((r) => r.url).join(' ')}`,
    );
    // No tight polling loop: a handful of job reads, not hundreds.
    const jobReads = server.requests.filter(
      (r) => r.method === 'GET' && /\/catalogue\/async\/[^/?]+(\?|$)/.test(r.url),
    );
    assert.ok(jobReads.length < 30, `${jobReads.length} reads of the job document`);
  });

  it('stilts tapresume follows a job to completion and writes its table', { skip }, async () => {
    const create = await fetch(`${server.url}/catalogue/async`, {
      method: 'POST',
      body: new URLSearchParams({ ROWS: '5', SEED: '3' }),
      redirect: 'manual',
    });
    assert.equal(create.status, 303);
    const jobUrl = create.headers.get('location')!;
    // tapresume starts a PENDING job, waits for it and reads the result; delete=finished removes it after.
    const { code, stdout, stderr } = await runClient(
      '/usr/bin/stilts',
      ['tapresume', `joburl=${jobUrl}`, 'delete=finished', 'ofmt=csv', 'out=-'],
      120_000,
    );
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n');
    assert.equal(lines[0], 'id,ra,dec,mag');
    assert.equal(lines.length, 6);

    // The same parameters give the same rows when fetched without STIL.
    const again = await fetch(`${server.url}/catalogue/async`, {
      method: 'POST',
      body: new URLSearchParams({ ROWS: '5', SEED: '3', PHASE: 'RUN' }),
      redirect: 'manual',
    });
    const againUrl = again.headers.get('location')!;
    for (let i = 0; i < 5; i++) {
      const doc = await (await fetch(`${againUrl}?WAIT=10`)).text();
      if (doc.includes('<uws:phase>COMPLETED</uws:phase>')) break;
    }
    const rows = votableRows(await (await fetch(`${againUrl}/results/result`)).text());
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',').map(Number)),
      rows,
    );
    // delete=finished removed the job STIL resumed.
    assert.equal((await fetch(jobUrl)).status, 404);
  });
});
