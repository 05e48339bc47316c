// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} placeholders of command templates are the subject here
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { commandExecutor } from '../../src/exec/executors/command.js';
import { makeRun, processExists, removeTempRoots } from './fixtures/context.js';

after(removeTempRoots);

const NODE = process.execPath;
/** A node script that prints its argv and chosen environment variables as JSON. */
const ECHO_ARGS = `process.stdout.write(JSON.stringify({ argv: process.argv.slice(1), env: process.env, cwd: process.cwd() }))`;

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

test('parameters become literal arguments and UWS_PARAM_ variables, never through a shell', async () => {
  process.env['UWS_TEST_SECRET'] = 'server secret';
  const tricky = `it's "quoted" $(touch pwned) \`touch pwned2\` and  spaces`;
  const run = await makeRun({ A: tricky, b: '; rm -rf /', MULTI: ['1', 'two words'], N: 42, FLAG: true });
  const executor = commandExecutor({
    command: [
      NODE,
      '-e',
      ECHO_ARGS,
      '${A}',
      'x=${B}',
      '${MULTI}',
      'n=${N},${FLAG}',
      '${MISSING}',
      '${WORKDIR}',
    ],
    env: { GREETING: 'hello ${A}', OUT: '${OUTDIR}' },
  });
  const outcome = await executor.execute(run.context);
  assert.deepEqual(outcome, { status: 'completed' });
  const seen = JSON.parse(run.read('log')) as { argv: string[]; env: Record<string, string>; cwd: string };
  assert.deepEqual(seen.argv, [
    tricky,
    'x=; rm -rf /',
    '1',
    'two words',
    'n=42,true',
    '',
    run.context.workDir,
  ]);
  assert.equal(seen.cwd, fs.realpathSync(run.context.workDir));
  assert.equal(seen.env['UWS_PARAM_A'], tricky);
  assert.equal(seen.env['UWS_PARAM_B'], '; rm -rf /');
  assert.equal(seen.env['UWS_PARAM_MULTI'], '1\ntwo words');
  assert.equal(seen.env['UWS_JOB_ID'], run.context.job.jobId);
  assert.equal(seen.env['GREETING'], `hello ${tricky}`);
  assert.equal(seen.env['OUT'], path.join(run.context.workDir, 'out'));
  assert.equal(seen.env['UWS_TEST_SECRET'], undefined, 'the server environment is not passed on');
  assert.ok(seen.env['PATH']);
  assert.equal(fs.existsSync(path.join(run.context.workDir, 'pwned')), false);
  assert.equal(fs.existsSync(path.join(run.context.workDir, 'pwned2')), false);
  assert.deepEqual(run.results.get('log')?.mediaType, 'text/plain');
});

test('file and upload parameters give the paths of their stored files', async () => {
  const run = await makeRun(
    {
      INPUT: { kind: 'file', uri: 'param:INPUT' },
      UPLOAD: [
        { kind: 'upload', name: 't1', uri: 'param:t1' },
        { kind: 'upload', name: 't2', uri: 'http://example.org/t2.vot' },
      ],
    },
    [
      { name: 'INPUT', value: 'param:INPUT', file: { fileName: 'INPUT', size: 3 } },
      { name: 'UPLOAD', value: 't1,param:t1', file: { fileName: 't1', size: 3 } },
      { name: 'UPLOAD', value: 't2,http://example.org/t2.vot', file: { fileName: 't2', size: 3 } },
    ],
  );
  const executor = commandExecutor({ command: [NODE, '-e', ECHO_ARGS, '${INPUT}', '${UPLOAD}'] });
  assert.equal((await executor.execute(run.context)).status, 'completed');
  const dir = run.context.workDir;
  assert.deepEqual(JSON.parse(run.read('log')).argv, [
    path.join(dir, 'INPUT'),
    `t1,${path.join(dir, 't1')}`,
    `t2,${path.join(dir, 't2')}`,
  ]);
});

test('a path attached to a file reference (as the scheduler does) is used as is', async () => {
  const run = await makeRun({
    INPUT: { kind: 'file', uri: 'param:INPUT', path: '/data/in.fits' },
    UPLOAD: [{ kind: 'upload', name: 't1', uri: 'param:t1', path: '/data/t1.vot' }],
  });
  const executor = commandExecutor({ command: [NODE, '-e', ECHO_ARGS, '${INPUT}', '${UPLOAD}'] });
  assert.equal((await executor.execute(run.context)).status, 'completed');
  assert.deepEqual(JSON.parse(run.read('log')).argv, ['/data/in.fits', 't1,/data/t1.vot']);
});

test('a NUL in a parameter is an error outcome, and nothing is run', async () => {
  let spawned = false;
  const run = await makeRun({ A: 'a\0b' });
  const outcome = await commandExecutor({
    command: ['echo', '${A}'],
    onSpawn: () => (spawned = true),
  }).execute(run.context);
  assert.equal(outcome.status, 'error');
  assert.match(outcome.status === 'error' ? outcome.summary.message : '', /NUL/);
  assert.equal(spawned, false);
});

test('files left in out/ become results with media types; links and folders do not', async () => {
  const run = await makeRun();
  const script = [
    'echo a,b > out/table.csv',
    'printf "<VOTABLE/>" > out/result',
    'printf "\\x00\\x01" > out/blob.bin',
    'mkdir out/sub && echo x > out/sub/inner.txt',
    'ln -s /etc/passwd out/pw',
    'echo in the log',
  ].join('; ');
  const outcome = await commandExecutor({
    command: ['bash', '-c', script],
    resultMediaTypes: { result: 'application/x-votable+xml' },
  }).execute(run.context);
  assert.equal(outcome.status, 'completed');
  assert.deepEqual([...run.results.keys()].sort(), ['blob.bin', 'log', 'result', 'table.csv']);
  assert.equal(run.results.get('table.csv')?.mediaType, 'text/csv');
  assert.equal(run.results.get('result')?.mediaType, 'application/x-votable+xml');
  assert.equal(run.results.get('blob.bin')?.mediaType, 'application/octet-stream');
  assert.equal(run.read('table.csv'), 'a,b\n');
  assert.equal(run.read('result'), '<VOTABLE/>');
  assert.deepEqual([...run.readBytes('blob.bin')], [0, 1]);
  assert.equal(run.results.get('table.csv')?.size, 4);
  assert.equal(run.read('log'), 'in the log\n');
  assert.ok(run.logLines.some((l) => l.includes('out/pw skipped')));
  assert.ok(run.logLines.some((l) => l.includes('out/sub skipped')));
});

test('a non-zero exit is an error with the code and the last lines of stderr; the log has both streams', async () => {
  const run = await makeRun();
  const outcome = await commandExecutor({
    command: ['bash', '-c', 'echo to stdout; echo first problem >&2; echo boom >&2; exit 3'],
  }).execute(run.context);
  assert.equal(outcome.status, 'error');
  if (outcome.status !== 'error') return;
  assert.equal(outcome.summary.type, 'fatal');
  assert.equal(outcome.summary.message, 'command exited with code 3: first problem | boom');
  assert.equal(outcome.summary.hasDetail, true);
  assert.match(outcome.detail ?? '', /to stdout\n/);
  assert.match(outcome.detail ?? '', /boom\n$/);
  const log = run.read('log');
  for (const line of ['to stdout', 'first problem', 'boom']) assert.ok(log.includes(line), line);
});

test('a command killed by a signal is an error naming the signal', async () => {
  const run = await makeRun();
  const outcome = await commandExecutor({ command: ['bash', '-c', 'kill -SEGV $$'] }).execute(run.context);
  assert.equal(outcome.status, 'error');
  assert.equal(outcome.status === 'error' && outcome.summary.message, 'command was killed by signal SIGSEGV');
});

test('a program that does not exist is an error outcome', async () => {
  const run = await makeRun();
  const outcome = await commandExecutor({ command: ['/nonexistent/program'] }).execute(run.context);
  assert.equal(outcome.status, 'error');
  assert.match(outcome.status === 'error' ? outcome.summary.message : '', /could not be started: ENOENT/);
});

test('abort kills the whole process group, background children included', async () => {
  const run = await makeRun();
  let pid = 0;
  const executor = commandExecutor({
    command: ['bash', '-c', 'sleep 60 & echo $! > bgpid; sleep 60; wait'],
    gracePeriodMs: 5_000,
    onSpawn: (p) => (pid = p),
  });
  const running = executor.execute(run.context);
  const bgFile = path.join(run.context.workDir, 'bgpid');
  await waitFor(() => fs.existsSync(bgFile) && fs.readFileSync(bgFile, 'utf8').endsWith('\n'), 'bgpid');
  const bgPid = Number(fs.readFileSync(bgFile, 'utf8'));
  assert.ok(processExists(pid) && processExists(bgPid), 'both run before the abort');
  run.controller.abort(new Error('aborted by the client'));
  const outcome = await running;
  assert.deepEqual(outcome, { status: 'aborted', reason: 'aborted by the client' });
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  assert.equal(processExists(bgPid), false, 'the background sleep is gone too');
  assert.ok(run.results.has('log'), 'the log is kept');
});

test('a child that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
  const run = await makeRun();
  let pid = 0;
  const executor = commandExecutor({
    command: ['bash', '-c', 'trap "" TERM; echo ready; sleep 60'],
    gracePeriodMs: 400,
    onSpawn: (p) => (pid = p),
  });
  const running = executor.execute(run.context);
  await waitFor(() => pid !== 0, 'spawn');
  await delay(200); // let bash install its trap
  const started = Date.now();
  run.controller.abort();
  const outcome = await running;
  const took = Date.now() - started;
  assert.equal(outcome.status, 'aborted');
  assert.ok(took >= 350, `SIGKILL only after the grace period (took ${took} ms)`);
  assert.ok(took < 20_000, `took ${took} ms`);
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
});

test('processes left in the background by a finished command are stopped', async () => {
  const run = await makeRun();
  const outcome = await commandExecutor({
    command: ['bash', '-c', 'sleep 60 & echo $! > bgpid; exit 0'],
  }).execute(run.context);
  assert.equal(outcome.status, 'completed');
  const bgPid = Number(fs.readFileSync(path.join(run.context.workDir, 'bgpid'), 'utf8'));
  assert.equal(processExists(bgPid), false);
});

test('an abort before the start runs nothing', async () => {
  const run = await makeRun();
  run.controller.abort('shutdown');
  let spawned = false;
  const outcome = await commandExecutor({
    command: ['sleep', '60'],
    onSpawn: () => (spawned = true),
  }).execute(run.context);
  assert.deepEqual(outcome, { status: 'aborted', reason: 'shutdown' });
  assert.equal(spawned, false);
});

test('the log is bounded', async () => {
  const run = await makeRun();
  const outcome = await commandExecutor({
    command: [NODE, '-e', `process.stdout.write('x'.repeat(100000))`],
    maxLogBytes: 1000,
  }).execute(run.context);
  assert.equal(outcome.status, 'completed');
  const log = run.read('log');
  assert.ok(log.startsWith('x'.repeat(1000)));
  assert.match(log, /\[log truncated at 1000 bytes\]\n$/);
  assert.ok(log.length < 1100);
});
