// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the command template syntax under test
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, configProblems, loadConfig, validateConfig } from '../../src/config/load.js';
import type { UwsConfig } from '../../src/config/schema.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-config-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let fileCount = 0;
function writeFile(content: unknown): string {
  const file = path.join(tmp, `config-${++fileCount}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** The ConfigError `fn` throws. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError, nothing was thrown');
}

const echoType = {
  name: 'echo',
  parameters: [{ name: 'message', type: 'string', required: true }],
  command: ['/bin/echo', '${message}'],
};

describe('defaults', () => {
  it('an empty configuration is valid and has every default', () => {
    const config = loadConfig({ env: {} });
    const expected: UwsConfig = {
      server: { host: '127.0.0.1', port: 8080, trustProxy: false, bodyLimitBytes: 10 * 1024 * 1024 },
      store: { url: 'sqlite:./var/uws.db' },
      workDir: './var/jobs',
      nodeId: `${os.hostname()}-${process.pid}`,
      scheduler: {
        maxExecuting: os.availableParallelism(),
        maxExecutingPerOwner: os.availableParallelism(),
        leaseSeconds: 30,
        destructionSweepSeconds: 300,
      },
      wait: { maxSeconds: 60 },
      destruction: { policy: 'delete' },
      uploads: {
        maxBytes: 100 * 1024 * 1024,
        maxFiles: 20,
        fetchTimeoutSeconds: 30,
        allowByReference: true,
        allowPrivateAddresses: false,
      },
      limits: {
        maxParameters: 100,
        maxValueLength: 50_000,
        maxUploads: 20,
        jobsPerMinute: 120,
        maxActiveJobsPerOwner: 100,
        storageQuotaBytes: 10 * 1024 * 1024 * 1024,
        maxWaitsPerOwner: 10,
        authFailuresPerMinute: 60,
      },
      log: { level: 'info' },
      builtins: true,
      jobTypes: [],
      auth: { strategies: ['anonymous'], allowAnonymous: true, admins: [], realm: 'ivoa-uws' },
    };
    assert.deepEqual(config, expected);
    assert.deepEqual(validateConfig({}), expected);
    assert.deepEqual(loadConfig({ file: writeFile({}), env: {} }), expected);
  });

  it('maxExecutingPerOwner follows maxExecuting unless set', () => {
    assert.equal(validateConfig({ scheduler: { maxExecuting: 7 } }).scheduler.maxExecutingPerOwner, 7);
    const both = validateConfig({ scheduler: { maxExecuting: 7, maxExecutingPerOwner: 2 } });
    assert.deepEqual([both.scheduler.maxExecuting, both.scheduler.maxExecutingPerOwner], [7, 2]);
  });

  it('fills in job type defaults: time policy, parameters, grace period', () => {
    const config = validateConfig({ jobTypes: [{ name: 'sleep', command: ['sleep', '1'] }] });
    const jobType = config.jobTypes[0]!;
    assert.deepEqual(jobType.executionDuration, { default: 600, max: 3600, allowUnlimited: false });
    assert.deepEqual(jobType.lifetime, { default: 7 * 86_400, max: 30 * 86_400 });
    assert.deepEqual(jobType.parameters, []);
    assert.equal(jobType.gracePeriodSeconds, 5);
  });

  it('normalises what it may: baseUrl without trailing slash, parameter defaults as text', () => {
    const config = validateConfig({
      server: { baseUrl: 'https://example.org/uws/' },
      jobTypes: [
        {
          name: 'count',
          parameters: [
            { name: 'n', type: 'integer', default: 3 },
            { name: 'loud', type: 'boolean', default: false },
          ],
          command: ['seq', '${n}'],
        },
      ],
    });
    assert.equal(config.server.baseUrl, 'https://example.org/uws');
    assert.deepEqual(
      config.jobTypes[0]!.parameters.map((p) => p.default),
      ['3', 'false'],
    );
  });

  it('accepts the store URLs the store accepts', () => {
    for (const url of ['sqlite:/srv/uws.db', 'sqlite::memory:', 'postgres://u@db/uws', './uws.db']) {
      assert.equal(validateConfig({ store: { url } }).store.url, url);
    }
    for (const url of ['', 'sqlite:', 'mysql://db/uws']) {
      assert.match(configError(() => validateConfig({ store: { url } })).message, /^.*store\.url: /m);
    }
  });
});

describe('errors', () => {
  it('names every problem at once, one per line, each with its key path', () => {
    const file = writeFile({
      server: { prot: 8081, port: 80.5, trustProxy: 'yes' },
      store: { url: 'mysql://db/uws' },
      scheduler: { maxExecuting: 0 },
      destruction: { policy: 'shred' },
      log: { level: 'loud' },
      builtins: 'no',
      colour: 'blue',
      jobTypes: [
        echoType,
        { name: 'slow', command: ['sleep', '10'], executionDuration: { max: 'ten' } },
        { name: 'odd', command: ['true'], parameters: [{ name: 'x', typ: 'string' }] },
      ],
    });
    const err = configError(() => loadConfig({ file, env: {} }));
    const expected = [
      'server.port: expected an integer, got 80.5',
      'server.prot: unknown key (did you mean port?)',
      'server.trustProxy: expected true or false, got "yes"',
      'store.url: unsupported store URL: use sqlite:<path> or postgres://..., got "mysql://db/uws"',
      'scheduler.maxExecuting: expected an integer >= 1, got 0',
      'destruction.policy: expected one of "delete", "archive", got "shred"',
      'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"',
      'builtins: expected true or false, got "no"',
      'colour: unknown key',
      'jobTypes[1].executionDuration.max: expected a number, got "ten"',
      'jobTypes[2].parameters[0].type: is required',
      'jobTypes[2].parameters[0].typ: unknown key (did you mean type?)',
    ];
    assert.equal(err.problems.length, expected.length, err.message);
    for (const line of expected) {
      assert.ok(
        err.problems.some((p) => p.startsWith(line)),
        `missing problem "${line}" in:\n${err.message}`,
      );
      assert.ok(err.message.includes(line), 'the message lists the problem too');
    }
    assert.equal(err.file, file);
    assert.match(err.message, new RegExp(`^invalid configuration in ${file}, 12 problems:\n`));
    assert.equal(err.message.split('\n').length, 13, 'a header, then one line per problem');
  });

  it('refinements of an object name the missing part without a misleading "got"', () => {
    const problems = configProblems({ store: { url: 'sqlite:' }, auth: { strategies: ['basic'] } }).map(
      (p) => `${p.path}: ${p.message}`,
    );
    assert.deepEqual(problems, [
      'store.url: sqlite: names no file; use sqlite:./var/uws.db, got "sqlite:"',
      'auth.basic: strategy basic needs auth.basic',
    ]);
  });

  it('reports a single problem on one line', () => {
    const err = configError(() => validateConfig({ wait: { maxSeconds: -1 } }));
    assert.equal(err.message, 'invalid configuration: wait.maxSeconds: expected an integer >= 0, got -1');
  });

  it('names a missing file by its path', () => {
    const file = path.join(tmp, 'nowhere', 'uws.json');
    const err = configError(() => loadConfig({ file, env: {} }));
    assert.equal(err.message, `invalid configuration: cannot read config file ${file}: no such file`);
  });

  it('names the line and column of bad JSON', () => {
    const file = writeFile('{\n  "server": {\n    "port": 8080,\n  }\n}\n');
    const err = configError(() => loadConfig({ file, env: {} }));
    assert.match(err.message, new RegExp(`config file ${file} is not valid JSON: line 4, column 3: `));
    const truncated = writeFile('{"server": {');
    assert.match(
      configError(() => loadConfig({ file: truncated, env: {} })).message,
      /is not valid JSON: line 1, column 13: /,
    );
  });

  it('wants an object at the top of the file', () => {
    const file = writeFile('[1, 2]');
    assert.match(
      configError(() => loadConfig({ file, env: {} })).message,
      /config file .* must hold a JSON object, got an array/,
    );
  });
});

describe('precedence: defaults < file < environment < overrides', () => {
  it('the environment beats the file, overrides beat both', () => {
    const file = writeFile({ server: { host: '0.0.0.0', port: 9000 }, workDir: '/srv/jobs' });
    const env = { IVOA_UWS_PORT: '9100' };
    assert.deepEqual(pick(loadConfig({ file, env: {} })), ['0.0.0.0', 9000, '/srv/jobs']);
    assert.deepEqual(pick(loadConfig({ file, env })), ['0.0.0.0', 9100, '/srv/jobs']);
    assert.deepEqual(pick(loadConfig({ file, env, overrides: { server: { port: 9200 } } })), [
      '0.0.0.0',
      9200,
      '/srv/jobs',
    ]);
  });

  it('reads each IVOA_UWS_* variable; empty ones change nothing', () => {
    const config = loadConfig({
      env: {
        IVOA_UWS_HOST: '::1',
        IVOA_UWS_PORT: '8181',
        IVOA_UWS_STORE: 'postgres://uws@db/uws',
        IVOA_UWS_WORK_DIR: '/data/jobs',
        IVOA_UWS_BASE_URL: 'https://vo.example.org/uws',
        IVOA_UWS_LOG_LEVEL: 'debug',
      },
    });
    assert.equal(config.server.host, '::1');
    assert.equal(config.server.port, 8181);
    assert.equal(config.store.url, 'postgres://uws@db/uws');
    assert.equal(config.workDir, '/data/jobs');
    assert.equal(config.server.baseUrl, 'https://vo.example.org/uws');
    assert.equal(config.log.level, 'debug');
    assert.equal(loadConfig({ env: { IVOA_UWS_PORT: '', IVOA_UWS_HOST: ' ' } }).server.port, 8080);
  });

  it('overrides merge into nested objects and leave undefined keys alone', () => {
    const file = writeFile({ server: { host: '0.0.0.0', trustProxy: true }, jobTypes: [echoType] });
    const config = loadConfig({
      file,
      env: {},
      overrides: { server: { port: 1234, host: undefined }, log: { level: 'warn' } },
    });
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.server.trustProxy, true);
    assert.equal(config.server.port, 1234);
    assert.equal(config.log.level, 'warn');
    assert.equal(config.jobTypes[0]!.name, 'echo');
  });

  it('says where an overridden bad value came from', () => {
    const err = configError(() =>
      loadConfig({
        env: { IVOA_UWS_PORT: 'eighty', IVOA_UWS_LOG_LEVEL: 'chatty' },
        overrides: { workDir: '' },
        overrideSources: { workDir: '--work-dir' },
      }),
    );
    assert.deepEqual(err.problems, [
      'server.port: expected a number, got "eighty" (from IVOA_UWS_PORT)',
      'workDir: must not be empty, got "" (from --work-dir)',
      'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "chatty" (from IVOA_UWS_LOG_LEVEL)',
    ]);
  });
});

function pick(c: UwsConfig): [string, number, string] {
  return [c.server.host, c.server.port, c.workDir];
}

describe('semantic checks on job types', () => {
  const problems = (jobTypes: unknown[]) =>
    configProblems({ jobTypes }).map((p) => `${p.path}: ${p.message}`);

  it('a sound job type has no problems', () => {
    assert.deepEqual(
      problems([
        {
          name: 'cutout',
          parameters: [
            { name: 'RA', type: 'number', min: 0, max: 360 },
            { name: 'size', type: 'enum', values: ['small', 'large'], default: 'small' },
            { name: 'inputs', type: 'upload' },
          ],
          command: ['${WORKDIR}/cutout', '--ra=${ra}', '${size}', '--out', '${OUTDIR}', '--id=${JOBID}'],
          env: { CUTOUT_INPUTS: '${inputs}' },
          inheritEnv: true,
          resultMediaTypes: { fits: 'application/fits' },
          executionDuration: { default: 0, max: 0, allowUnlimited: true },
          lifetime: { default: 3600, max: 86_400 },
          mainResult: 'cutout.fits',
        },
      ]),
      [],
    );
  });

  it('job type names: valid, unique (ignoring case)', () => {
    assert.deepEqual(
      problems([
        { name: 'a b', command: ['true'] },
        { name: 'echo', command: ['true'] },
        { name: 'Echo', command: ['true'] },
        { name: '9lives', command: ['true'] },
      ]),
      [
        'jobTypes[0].name: "a b" is not a valid job type name: it must start with a letter and have only letters, digits, - and _ (at most 64)',
        'jobTypes[2].name: job type Echo is already declared by jobTypes[1]',
        'jobTypes[3].name: "9lives" is not a valid job type name: it must start with a letter and have only letters, digits, - and _ (at most 64)',
      ],
    );
  });

  it('time policies go through validateTimePolicy', () => {
    assert.deepEqual(
      problems([
        { name: 'a', command: ['true'], executionDuration: { default: 100, max: 10 } },
        { name: 'b', command: ['true'], executionDuration: { default: 0 } },
        { name: 'c', command: ['true'], lifetime: { default: 100, max: 10 } },
        { name: 'd', command: ['true'], executionDuration: { max: 2_147_483_648 } },
      ]),
      [
        'jobTypes[0]: executionDuration.default exceeds executionDuration.max',
        'jobTypes[1]: executionDuration.default is 0 (unlimited) but allowUnlimited is false',
        'jobTypes[2]: lifetime.default must be > 0 and <= lifetime.max',
        'jobTypes[3].executionDuration.max: expected an integer <= 2147483647, got 2147483648',
      ],
    );
  });

  it('commands: not empty, placeholders name declared parameters or WORKDIR/OUTDIR', () => {
    assert.deepEqual(
      problems([
        { name: 'a', command: [] },
        { name: 'b', command: [''] },
        {
          name: 'c',
          parameters: [{ name: 'Msg', type: 'string' }],
          command: ['echo', '${MSG}', '${msg}', '${other}', 'x${}y', '${workdir}'],
          env: { GREETING: '${greeting}', 'BAD-NAME': 'x' },
        },
        { name: 'd' },
      ]),
      [
        'jobTypes[0].command: must name a program to run; it is empty',
        'jobTypes[1].command[0]: the program to run is an empty string',
        'jobTypes[2].command[3]: placeholder ${other} is neither a declared parameter nor a built-in (known: Msg, WORKDIR, OUTDIR, JOBID)',
        'jobTypes[2].command[4]: placeholder ${} is neither a declared parameter nor a built-in (known: Msg, WORKDIR, OUTDIR, JOBID)',
        'jobTypes[2].command[5]: placeholder ${workdir} is neither a declared parameter nor a built-in (known: Msg, WORKDIR, OUTDIR, JOBID)',
        'jobTypes[2].env.GREETING: placeholder ${greeting} is neither a declared parameter nor a built-in (known: Msg, WORKDIR, OUTDIR, JOBID)',
        'jobTypes[2].env["BAD-NAME"]: not a valid environment variable name',
        'jobTypes[3].command: is required (an array)',
      ],
    );
  });

  it('parameter declarations: unique, not reserved, consistent, defaults that decode', () => {
    assert.deepEqual(
      problems([
        {
          name: 'p',
          command: ['true'],
          parameters: [
            { name: 'n', type: 'integer', min: 5, max: 1, default: 'many' },
            { name: 'N', type: 'string' },
            { name: 'RUNID', type: 'string' },
            { name: 'colour', type: 'enum' },
            { name: 'flag', type: 'boolean', values: ['yes'], min: 1 },
            { name: 'when', type: 'date', default: 'tomorrow' },
          ],
        },
      ]),
      [
        'jobTypes[0].parameters[0].min: min 5 is greater than max 1',
        "jobTypes[0].parameters[0].default: parameter n: 'many' is not an integer",
        'jobTypes[0].parameters[1].name: N is already declared by parameters[0] (names are case-insensitive)',
        'jobTypes[0].parameters[2].name: RUNID is reserved (a UWS control parameter or placeholder)',
        'jobTypes[0].parameters[3].values: an enum parameter needs its list of values',
        'jobTypes[0].parameters[4].values: only enum parameters take values; this one is boolean',
        'jobTypes[0].parameters[4]: min and max only apply to integer and number parameters',
        "jobTypes[0].parameters[5].default: when: 'tomorrow' is not an ISO 8601 instant (expected e.g. 2026-01-31T12:00:00Z)",
      ],
    );
  });

  it('reports semantic problems together with schema problems, in file order', () => {
    const lines = problems([
      { name: 'x y', command: ['true'], extra: true },
      { name: 'ok', command: ['echo', '${nope}'], gracePeriodSeconds: -1 },
    ]);
    assert.deepEqual(
      lines.map((l) => l.slice(0, l.indexOf(':'))),
      ['jobTypes[0].extra', 'jobTypes[0].name', 'jobTypes[1].gracePeriodSeconds', 'jobTypes[1].command[1]'],
    );
  });
});
