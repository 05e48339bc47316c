import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, runCli } from './run-cli.js';

const commandsIn = (help: string) =>
  [...help.slice(help.indexOf('Commands:')).matchAll(/^ {2}([a-z]+)/gm)].map((m) => m[1]);

describe('ivoa-uws --help', () => {
  it('lists every command and exits 0', async () => {
    const run = await runCli(['--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: ivoa-uws /);
    assert.deepEqual(commandsIn(run.stdout), [
      'serve',
      'worker',
      'migrate',
      'jobs',
      'cleanup',
      'config',
      'help',
    ]);
  });

  it('lists the subcommands of jobs and config', async () => {
    const [jobs, config] = await Promise.all([runCli(['jobs', '--help']), runCli(['config', '--help'])]);
    assert.equal(jobs.code, 0, jobs.stderr);
    assert.deepEqual(commandsIn(jobs.stdout), ['list', 'show', 'abort', 'delete', 'help']);
    assert.equal(config.code, 0, config.stderr);
    assert.deepEqual(commandsIn(config.stdout), ['check', 'show', 'help']);
  });

  it('documents the options of serve and cleanup', async () => {
    const [serve, cleanup] = await Promise.all([runCli(['serve', '--help']), runCli(['cleanup', '--help'])]);
    for (const flag of ['--config', '--host', '--port', '--store', '--work-dir', '--base-url']) {
      assert.ok(serve.stdout.includes(flag), `serve --help mentions ${flag}`);
    }
    for (const flag of [
      '--expired',
      '--failed',
      '--completed',
      '--pending-older-than',
      '--all',
      '--dry-run',
    ]) {
      assert.ok(cleanup.stdout.includes(flag), `cleanup --help mentions ${flag}`);
    }
  });

  it('prints the version from package.json', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    const run = await runCli(['--version']);
    assert.equal(run.code, 0);
    assert.equal(run.stdout.trim(), pkg.version);
  });

  it('refuses unknown commands and bad options with exit code 2', async () => {
    const [unknown, phase] = await Promise.all([
      runCli(['bogus']),
      runCli(['jobs', 'list', '--phase', 'FINISHED']),
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'bogus'/);
    assert.equal(phase.code, 2);
    assert.match(phase.stderr, /FINISHED is not a phase/);
  });
});
