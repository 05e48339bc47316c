import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startServer } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { REPO_ROOT, tempDir } from './helpers/tmp.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const README_BASE = 'http://127.0.0.1:8080';
// Asynchronous on purpose: the server under test answers from this very process.
const run = promisify(execFile);

/** The first fenced block of `language` after `marker` in the README. */
function block(marker: string, language: string): string {
  const from = README.indexOf(marker);
  assert.ok(from >= 0, `README has no '${marker}'`);
  const open = README.indexOf(`\`\`\`${language}\n`, from);
  const close = README.indexOf('\n```', open + 4);
  assert.ok(open >= 0 && close > open, `README has no ${language} block after '${marker}'`);
  return README.slice(open + language.length + 4, close + 1);
}

describe('the README examples run as written', () => {
  const tmp = tempDir('readme');
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        server: { host: '127.0.0.1', port: 0 },
        store: { url: `sqlite:${join(tmp.dir, 'uws.db')}` },
        workDir: join(tmp.dir, 'jobs'),
        log: { level: 'warn' },
      },
    });
    server = await startServer(config);
  });
  after(async () => {
    await server.stop();
    tmp.cleanup();
  });

  it('the curl tour: create and run, WAIT, result, inline upload, delete', async () => {
    const lines = block('## Try it', 'sh').replaceAll(README_BASE, server.url);
    const [create, ...rest] = lines.split('\n').filter((l) => l.startsWith('curl'));
    const created = await run('bash', ['-c', create!]);
    const jobId = /\/catalogue\/async\/([A-Za-z0-9_-]+)/.exec(created.stdout)?.[1];
    assert.ok(jobId, created.stdout);
    writeFileSync(join(tmp.dir, 'table.xml'), '<VOTABLE/>\n');
    const outputs: string[] = [];
    for (const line of rest) {
      outputs.push((await run('bash', ['-c', line.replaceAll('JOBID', jobId)], { cwd: tmp.dir })).stdout);
    }
    assert.match(outputs[0]!, /<uws:phase>COMPLETED<\/uws:phase>/);
    assert.match(outputs[1]!, /<TR><TD>5<\/TD>/);
    assert.match(outputs[2]!, /^HTTP\/1.1 303/);
    assert.match(outputs[3]!, /^HTTP\/1.1 303/);
    const gone = await fetch(`${server.url}/catalogue/async/${jobId}`);
    assert.equal(gone.status, 404);
  });

  it('the pyvo example', { skip: !existsSync('/usr/bin/python3') && !process.env.CI }, async () => {
    const script = block('With pyvo', 'python').replaceAll(README_BASE, server.url);
    const { stdout } = await run('/usr/bin/python3', ['-c', script], { timeout: 120_000 });
    assert.equal(stdout.trim(), '100 rows');
  });
});
