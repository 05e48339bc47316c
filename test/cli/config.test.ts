// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the command template syntax under test
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from './run-cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-cli-config-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeJson(name: string, content: unknown): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

const goodConfig = {
  server: { port: 9090, baseUrl: 'https://vo.example.org/uws/' },
  store: { url: 'sqlite:/srv/uws/jobs.db' },
  scheduler: { maxExecuting: 4 },
  jobTypes: [
    {
      name: 'grep',
      parameters: [
        { name: 'pattern', type: 'string', required: true },
        { name: 'input', type: 'file', required: true },
      ],
      command: ['grep', '-e', '${pattern}', '${WORKDIR}/input'],
      executionDuration: { default: 60, max: 600 },
    },
  ],
};

describe('ivoa-uws config check', () => {
  it('accepts a good file: exit 0 and a one-line summary', async () => {
    const file = writeJson('good.json', goodConfig);
    const run = await runCli(['config', 'check', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      `${file}: valid (1 job type plus the built-in ones, store sqlite:/srv/uws/jobs.db)\n`,
    );
    assert.equal(run.stderr, '');
  });

  it('warns of what this host lacks without failing', async () => {
    const file = writeJson('elsewhere.json', {
      jobTypes: [{ name: 'fit', command: ['/opt/nowhere/fit', '${WORKDIR}'] }],
    });
    const run = await runCli(['config', 'check', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trimEnd().split('\n'), [
      `${file}: warning: jobTypes[0].command[0]: /opt/nowhere/fit: no such file`,
      `${file}: valid (1 job type plus the built-in ones, store sqlite:./var/uws.db), 1 warning about this host`,
    ]);
  });

  it('names every bad key of a bad file, one per line, and exits 1', async () => {
    const file = writeJson('bad.json', {
      server: { prot: 8080, port: 'eighty' },
      scheduler: { maxExecuting: 0, leaseSecs: 10 },
      log: { level: 'verbose' },
      jobTypes: [
        { ...goodConfig.jobTypes[0], command: ['grep', '${patern}'] },
        { name: 'grep', command: [] },
      ],
    });
    const run = await runCli(['config', 'check', file]);
    assert.equal(run.code, 1);
    assert.deepEqual(run.stdout.trimEnd().split('\n'), [
      `${file}: server.port: expected a number, got "eighty"`,
      `${file}: server.prot: unknown key (did you mean port?)`,
      `${file}: scheduler.maxExecuting: expected an integer >= 1, got 0`,
      `${file}: scheduler.leaseSecs: unknown key (did you mean leaseSeconds?)`,
      `${file}: log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "verbose"`,
      `${file}: jobTypes[0].command[1]: placeholder \${patern} is neither a declared parameter nor a built-in (known: pattern, input, WORKDIR, OUTDIR, JOBID)`,
      `${file}: jobTypes[1].name: job type grep is already declared by jobTypes[0]`,
      `${file}: jobTypes[1].command: must name a program to run; it is empty`,
    ]);
    assert.equal(run.stderr, `ivoa-uws: ${file} has 8 problems\n`);
  });

  it('ignores the environment: it checks the file itself', async () => {
    const file = writeJson('plain.json', {});
    const run = await runCli(['config', 'check', file], { env: { IVOA_UWS_PORT: 'not-a-port' } });
    assert.equal(run.code, 0, run.stdout + run.stderr);
  });

  it('reports a missing file and bad JSON with exit 1', async () => {
    const missing = path.join(tmp, 'missing.json');
    const broken = writeJson('broken.json', '{\n  "server": { "port": 8080 }\n  "store": {}\n}\n');
    const [a, b] = await Promise.all([
      runCli(['config', 'check', missing]),
      runCli(['config', 'check', broken]),
    ]);
    assert.equal(a.code, 1);
    assert.equal(a.stdout, `cannot read config file ${missing}: no such file\n`);
    assert.equal(b.code, 1);
    assert.match(b.stdout, new RegExp(`^config file ${broken} is not valid JSON: line 3, column 3: `));
  });
});

describe('ivoa-uws config show', () => {
  it('prints the defaults as JSON when there is no file', async () => {
    const run = await runCli(['config', 'show']);
    assert.equal(run.code, 0, run.stderr);
    const config = JSON.parse(run.stdout);
    assert.equal(config.server.port, 8080);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.store.url, 'sqlite:./var/uws.db');
    assert.equal(config.workDir, './var/jobs');
    assert.equal(config.builtins, true);
    assert.deepEqual(config.jobTypes, []);
    assert.match(config.nodeId, /^.+-\d+$/);
  });

  it('layers file < environment < options', async () => {
    const file = writeJson('layered.json', goodConfig);
    const run = await runCli(
      ['config', 'show', '--config', file, '--store', 'sqlite:/tmp/x.db', '--host', '::'],
      {
        env: { IVOA_UWS_PORT: '9191', IVOA_UWS_STORE: 'sqlite:/tmp/env.db', IVOA_UWS_LOG_LEVEL: 'warn' },
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const config = JSON.parse(run.stdout);
    assert.equal(config.server.port, 9191, 'the environment beats the file');
    assert.equal(config.store.url, 'sqlite:/tmp/x.db', 'an option beats the environment');
    assert.equal(config.server.host, '::');
    assert.equal(config.server.baseUrl, 'https://vo.example.org/uws');
    assert.equal(config.log.level, 'warn');
    assert.equal(config.scheduler.maxExecutingPerOwner, 4);
    assert.equal(config.jobTypes[0].name, 'grep');
  });

  it('hides the password of the store URL unless asked', async () => {
    const env = { IVOA_UWS_STORE: 'postgres://uws:s3cret@db.example.org:5432/uws' };
    const [hidden, shown] = await Promise.all([
      runCli(['config', 'show'], { env }),
      runCli(['config', 'show', '--show-secrets'], { env }),
    ]);
    assert.equal(hidden.code, 0, hidden.stderr);
    assert.equal(JSON.parse(hidden.stdout).store.url, 'postgres://uws:***@db.example.org:5432/uws');
    assert.ok(!hidden.stdout.includes('s3cret'));
    assert.equal(JSON.parse(shown.stdout).store.url, env.IVOA_UWS_STORE);
  });

  it('finds the file through IVOA_UWS_CONFIG', async () => {
    const file = writeJson('from-env.json', { workDir: '/data/uws' });
    const run = await runCli(['config', 'show'], { env: { IVOA_UWS_CONFIG: file } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).workDir, '/data/uws');
  });

  it('bad settings: exit 2, every problem named with its source, no stack', async () => {
    const file = writeJson('bad-show.json', { server: { trustProxy: 'yes' } });
    const run = await runCli(['config', 'show', '--config', file, '--port', 'http'], {
      env: { IVOA_UWS_BASE_URL: 'example.org' },
    });
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      [
        `ivoa-uws: invalid configuration in ${file}, 3 problems:`,
        '  server.port: expected a number, got "http" (from --port)',
        '  server.baseUrl: expected an absolute http(s) URL, got "example.org" (from IVOA_UWS_BASE_URL)',
        '  server.trustProxy: expected true or false, got "yes"',
        '',
      ].join('\n'),
    );
  });
});
