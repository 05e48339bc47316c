import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { inProcessExecutor } from '../../src/exec/executors/in-process.js';
import { makeRun, removeTempRoots } from './fixtures/context.js';

after(removeTempRoots);

test('a handler that resolves completes the job; its results are stored', async () => {
  const run = await makeRun({ n: 3 });
  const executor = inProcessExecutor(async (ctx) => {
    assert.equal(ctx.parameters['n'], 3);
    await ctx.results.write(
      'result',
      `<VOTABLE>${ctx.parameters['n']}</VOTABLE>`,
      'application/x-votable+xml',
    );
  });
  assert.equal(executor.kind, 'in-process');
  assert.deepEqual(await executor.execute(run.context), { status: 'completed' });
  assert.equal(run.read('result'), '<VOTABLE>3</VOTABLE>');
});

test('a thrown error is a fatal error with the message; the stack is the detail', async () => {
  const run = await makeRun();
  const outcome = await inProcessExecutor(async () => {
    throw new Error('the catalogue is offline');
  }).execute(run.context);
  assert.equal(outcome.status, 'error');
  if (outcome.status !== 'error') return;
  assert.deepEqual(outcome.summary, { type: 'fatal', message: 'the catalogue is offline', hasDetail: true });
  assert.match(outcome.detail ?? '', /Error: the catalogue is offline\n\s+at /);
});

test('a handler may report a failure without throwing', async () => {
  const run = await makeRun();
  const outcome = await inProcessExecutor(async () => ({
    errorSummary: { message: 'try again later', type: 'transient' as const },
    detail: 'upstream answered 503',
  })).execute(run.context);
  assert.deepEqual(outcome, {
    status: 'error',
    summary: { type: 'transient', message: 'try again later', hasDetail: true },
    detail: 'upstream answered 503',
  });
});

test('a handler that honours the signal ends aborted', async () => {
  const run = await makeRun();
  const executor = inProcessExecutor(async (ctx) => {
    await delay(60_000, undefined, { signal: ctx.signal });
  });
  const running = executor.execute(run.context);
  setTimeout(() => run.controller.abort(new Error('executionDuration of 1 s reached')), 20);
  assert.deepEqual(await running, { status: 'aborted', reason: 'executionDuration of 1 s reached' });
});

test('a handler that ignores the signal: aborted promptly anyway, and its later results are refused', async () => {
  const run = await makeRun();
  let lateWrite: Promise<unknown> | undefined;
  let finish!: () => void;
  const stubborn = new Promise<void>((resolve) => (finish = resolve));
  const executor = inProcessExecutor(async (ctx) => {
    await ctx.results.write('early', 'kept', 'text/plain');
    await stubborn; // never looks at ctx.signal
    lateWrite = ctx.results.write('late', 'must not appear', 'text/plain');
    await lateWrite.catch(() => {});
  });
  const running = executor.execute(run.context);
  await delay(20);
  run.controller.abort();
  const outcome = await Promise.race([
    running,
    delay(5_000, undefined, { ref: false }).then(() => 'still running'),
  ]);
  assert.equal(typeof outcome === 'object' && outcome.status, 'aborted');
  finish();
  await delay(20);
  await assert.rejects(lateWrite as Promise<unknown>, /run has ended/);
  assert.deepEqual([...run.results.keys()], ['early']);
});

test('an abort before the start does not call the handler', async () => {
  const run = await makeRun();
  run.controller.abort();
  let called = false;
  const outcome = await inProcessExecutor(async () => {
    called = true;
  }).execute(run.context);
  assert.equal(outcome.status, 'aborted');
  assert.equal(called, false);
});
