import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { threadExecutor } from '../../src/exec/executors/thread.js';
import { makeRun, removeTempRoots, tempRoot } from './fixtures/context.js';

after(removeTempRoots);

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const repoRoot = path.resolve(fixtures, '..', '..', '..');

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

test('a TypeScript worker module runs in a thread; its results reach the result writer', async () => {
  const run = await makeRun({ n: 1000, INPUT: { kind: 'file', uri: 'param:INPUT' } }, [
    { name: 'INPUT', value: 'param:INPUT', file: { fileName: 'INPUT', size: 5 } },
  ]);
  fs.writeFileSync(path.join(run.context.workDir, 'INPUT'), 'hello');
  const executor = threadExecutor({ module: path.join(fixtures, 'worker-ok.ts') });
  assert.equal(executor.kind, 'thread');
  const outcome = await executor.execute(run.context);
  assert.deepEqual(outcome, { status: 'completed' });
  assert.equal(run.read('result'), '<VOTABLE><sum>500500</sum></VOTABLE>');
  assert.equal(run.results.get('result')?.mediaType, 'application/x-votable+xml');
  assert.deepEqual([...run.readBytes('bytes')], [0, 255, 7]);
  const stream = run.readBytes('stream');
  assert.equal(stream.length, 48 * 65_536);
  assert.equal(run.results.get('stream')?.size, 48 * 65_536);
  for (let i = 0; i < 48; i++) assert.equal(stream[i * 65_536 + 100], i);
  assert.deepEqual(run.results.get('elsewhere'), {
    id: 'elsewhere',
    mediaType: 'application/fits',
    size: 2880,
    href: 'https://data.example.org/x.fits',
  });
  assert.equal(run.read('echo'), 'hello');
  assert.deepEqual(JSON.parse(run.read('whoami')), {
    jobId: run.context.job.jobId,
    workDir: run.context.workDir,
  });
  assert.ok(run.logLines.includes('summing 1..1000'));
  // No spool files are left behind.
  assert.deepEqual(
    fs.readdirSync(run.context.workDir).filter((f) => f.startsWith('.')),
    [],
  );
});

test('a plain JavaScript worker module works too', async () => {
  const run = await makeRun({ word: 'hello' });
  const outcome = await threadExecutor({ module: path.join(fixtures, 'worker-plain.mjs') }).execute(
    run.context,
  );
  assert.deepEqual(outcome, { status: 'completed' });
  assert.equal(run.read('result'), 'plain hello');
});

test('a thrown error is an error outcome; results written before it are kept', async () => {
  const run = await makeRun();
  const outcome = await threadExecutor({ module: path.join(fixtures, 'worker-fail.ts') }).execute(
    run.context,
  );
  assert.equal(outcome.status, 'error');
  if (outcome.status !== 'error') return;
  assert.equal(outcome.summary.message, 'the model did not converge');
  assert.equal(outcome.summary.hasDetail, true);
  assert.match(outcome.detail ?? '', /worker-fail\.ts/);
  assert.equal(run.read('partial'), 'written before the failure');
});

test('a module without a default function, or that cannot be found, is an error outcome', async () => {
  const run = await makeRun();
  const noDefault = await threadExecutor({ module: path.join(fixtures, 'worker-no-default.ts') }).execute(
    run.context,
  );
  assert.equal(noDefault.status, 'error');
  assert.match(noDefault.status === 'error' ? noDefault.summary.message : '', /no default export/);
  const missing = await threadExecutor({ module: path.join(fixtures, 'nope.mjs') }).execute(run.context);
  assert.equal(missing.status, 'error');
  assert.match(missing.status === 'error' ? missing.summary.message : '', /nope\.mjs|Cannot find/);
});

test('abort terminates a busy-looping worker after the grace period', async () => {
  const run = await makeRun();
  const executor = threadExecutor({ module: path.join(fixtures, 'worker-busy.ts'), gracePeriodMs: 200 });
  const running = executor.execute(run.context);
  await waitFor(() => run.results.has('started'), 'the worker to start');
  run.controller.abort(new Error('aborted by the client'));
  const outcome = await Promise.race([
    running,
    delay(15_000, undefined, { ref: false }).then(() => 'still running'),
  ]);
  assert.deepEqual(outcome, { status: 'aborted', reason: 'aborted by the client' });
  assert.equal(run.read('started'), 'yes');
});

test('a worker that honours the signal stops by itself and keeps what it saved', async () => {
  const run = await makeRun();
  const executor = threadExecutor({ module: path.join(fixtures, 'worker-polite.ts'), gracePeriodMs: 10_000 });
  const running = executor.execute(run.context);
  await waitFor(() => run.results.has('started'), 'the worker to start');
  run.controller.abort();
  const outcome = await Promise.race([
    running,
    delay(8_000, undefined, { ref: false }).then(() => 'waited for the grace period'),
  ]);
  assert.equal(typeof outcome === 'object' && outcome.status, 'aborted');
  assert.equal(run.read('partial'), 'saved on abort');
});

test('the built JavaScript runs under plain node, without tsx', async (t) => {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    t.skip('esbuild (a dependency of tsx) is not installed');
    return;
  }
  const build = tempRoot('uws-built-');
  const sources = ['src/core', 'src/results', 'src/exec/executors'].flatMap((dir) =>
    fs
      .readdirSync(path.join(repoRoot, dir))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(dir, f)),
  );
  for (const source of [...sources, 'src/exec/types.ts']) {
    const { code } = await esbuild.transform(fs.readFileSync(path.join(repoRoot, source), 'utf8'), {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
    });
    const out = path.join(build, source.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, code);
  }
  fs.writeFileSync(path.join(build, 'package.json'), '{"type":"module"}');
  fs.copyFileSync(path.join(fixtures, 'worker-plain.mjs'), path.join(build, 'worker-plain.mjs'));
  const runner = `
    import { threadExecutor } from './src/exec/executors/thread.js';
    import { createResultWriter } from './src/results/result-files.js';
    import { WorkDirs } from './src/results/workdirs.js';
    import fs from 'node:fs';
    const workDirs = new WorkDirs(process.argv[2]);
    const workDir = await workDirs.ensure('j1');
    const stored = [];
    const context = (signal) => ({
      job: { jobId: 'j1', parameters: [] }, parameters: { word: 'built' }, workDir, signal,
      results: createResultWriter(workDirs, 'j1', async (r) => { stored.push(r); }), log: () => {},
    });
    const plain = await threadExecutor({ module: './worker-plain.mjs' }).execute(context(new AbortController().signal));
    const ts = await threadExecutor({ module: process.argv[3] }).execute(context(new AbortController().signal));
    const text = fs.readFileSync(workDirs.filePath('j1', stored[0].fileName), 'utf8');
    console.log(JSON.stringify({ plain, ts, text }));
  `;
  fs.writeFileSync(path.join(build, 'runner.mjs'), runner);
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  const child = spawnSync(
    process.execPath,
    ['runner.mjs', path.join(build, 'jobs'), path.join(fixtures, 'worker-ok.ts')],
    { cwd: build, env, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(child.status, 0, child.stderr);
  const got = JSON.parse(child.stdout) as {
    plain: { status: string };
    ts: { status: string; summary?: { message: string } };
    text: string;
  };
  assert.deepEqual(got.plain, { status: 'completed' });
  assert.equal(got.text, 'plain built');
  // Without tsx next to the built code, a TypeScript module is refused with a clear message.
  assert.equal(got.ts.status, 'error');
  assert.match(got.ts.summary?.message ?? '', /install tsx/);
});
