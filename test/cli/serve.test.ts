import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { newJobId } from '../../src/core/ids.js';
import { openStore } from '../../src/store/index.js';
import { cleanEnv, mainScript, runCli } from './run-cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-cli-serve-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

const tsxLoader = import.meta.resolve('tsx');

/** A long-running CLI command, with its output collected as it comes. */
class Running {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, ['--import', tsxLoader, mainScript, ...args], {
      cwd: tmp,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(this.child);
    this.child.stdout!.on('data', (d) => {
      this.stdout += d;
    });
    this.child.stderr!.on('data', (d) => {
      this.stderr += d;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        children.delete(this.child);
        resolve({ code, signal });
      });
    });
  }

  /** Resolves with the first match of `pattern` in stdout; fails if the process exits first. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.stdout);
      if (m) return m;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no ${pattern} in the output; stdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function siteArgs(name: string): string[] {
  const dir = path.join(tmp, name);
  return ['--store', `sqlite:${path.join(dir, 'uws.db')}`, '--work-dir', path.join(dir, 'jobs')];
}

describe('ivoa-uws serve', () => {
  it('answers on the port it prints, and stops on SIGTERM with exit 0', async () => {
    const server = new Running(['serve', '--port', '0', ...siteArgs('serve')]);
    const [, url] = await server.waitFor(/serving on (http:\/\/\S+)\n/);
    const response = await fetch(`${url}/`);
    assert.equal(response.status, 200, await response.text());
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    assert.equal(code, 0, server.stderr);
    assert.match(server.stderr, /SIGTERM received, stopping the server/);
  });

  it('--http-only serves jobs but runs none (a worker node runs them)', async () => {
    const server = new Running(['serve', '--http-only', '--port', '0', ...siteArgs('http-only')]);
    const [, url] = await server.waitFor(/serving on (http:\/\/\S+)\n/);
    const created = await fetch(`${url}/sleep/async`, {
      method: 'POST',
      body: new URLSearchParams({ DURATION: '0', PHASE: 'RUN' }),
      redirect: 'manual',
    });
    assert.equal(created.status, 303);
    const jobUrl = created.headers.get('location')!;
    await new Promise((r) => setTimeout(r, 1500));
    const phase = await (await fetch(`${jobUrl}/phase`)).text();
    assert.equal(phase, 'QUEUED', 'nobody on this node ran it');
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0, server.stderr);
  });

  it('stops on SIGINT too', async () => {
    const server = new Running(['serve', '--port', '0', ...siteArgs('serve-int')]);
    await server.waitFor(/serving on /);
    server.child.kill('SIGINT');
    assert.equal((await server.exited).code, 0, server.stderr);
  });

  it('a port already taken: exit 2 with one line', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const run = await runCli(['serve', '--port', String(port), ...siteArgs('taken')], { cwd: tmp });
      assert.equal(run.code, 2);
      assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, /^ivoa-uws: .*EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  it('a bad configuration: exit 2, every problem named, no stack', async () => {
    const file = path.join(tmp, 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ server: { prot: 1 }, scheduler: { maxExecuting: 'all' } }));
    const run = await runCli(['serve', '--config', file, '--port', '99999'], { cwd: tmp });
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      [
        `ivoa-uws: invalid configuration in ${file}, 3 problems:`,
        '  server.port: expected an integer <= 65535, got 99999 (from --port)',
        '  server.prot: unknown key (did you mean port?)',
        '  scheduler.maxExecuting: expected a number, got "all"',
        '',
      ].join('\n'),
    );
  });
});

describe('ivoa-uws worker', () => {
  it('runs queued jobs without HTTP and stops on SIGTERM with exit 0', async () => {
    const args = siteArgs('worker');
    const storeUrl = args[1]!;
    const store = await openStore(storeUrl);
    const jobId = newJobId();
    try {
      await store.create({
        jobId,
        jobType: 'sleep',
        runId: null,
        ownerId: null,
        phase: 'QUEUED',
        quote: null,
        creationTime: Date.now(),
        executionDuration: 60,
        destruction: Date.now() + 86_400_000,
        parameters: [{ name: 'DURATION', value: '0' }],
        jobInfo: null,
      });
    } finally {
      await store.close();
    }
    const worker = new Running(['worker', ...args]);
    await worker.waitFor(/worker \S+ running jobs from /);
    const deadline = Date.now() + 30_000;
    let phase: string | undefined;
    while (Date.now() < deadline) {
      const s = await openStore(storeUrl);
      phase = (await s.get(jobId))?.phase;
      await s.close();
      if (phase === 'COMPLETED' || phase === 'ERROR') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(phase, 'COMPLETED', worker.stderr);
    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.stderr);
  });
});
