import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newJobId } from '../../src/core/ids.js';
import type { Phase } from '../../src/core/phases.js';
import { openStore } from '../../src/store/index.js';
import { cleanEnv, mainScript, runCli } from './run-cli.js';

const DAY = 86_400_000;

/**
 * A real SQLite file and work directory seeded with jobs in every situation the
 * admin commands tell apart; the CLI runs against them as a child process.
 */
class Site {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-cli-admin-'));
  readonly storeUrl = `sqlite:${path.join(this.dir, 'uws.db')}`;
  readonly workDir = path.join(this.dir, 'jobs');
  readonly now = Date.now();
  private created = 0;

  /** `ivoa-uws <args> --store ... --work-dir ...` */
  cli(...args: string[]) {
    return runCli([...args, '--store', this.storeUrl, '--work-dir', this.workDir], { cwd: this.dir });
  }

  /** A config file in the site's folder. */
  config(content: unknown): string {
    const file = path.join(this.dir, 'uws.json');
    fs.writeFileSync(file, JSON.stringify(content));
    return file;
  }

  async job(
    phase: Phase,
    options: {
      ageMs?: number;
      destruction?: number;
      bytes?: number;
      ownerId?: string;
      jobType?: string;
      runId?: string;
      /** An error summary and the long text behind /error. */
      error?: { message: string; detail: string };
    } = {},
  ): Promise<string> {
    const jobId = newJobId();
    const store = await openStore(this.storeUrl);
    try {
      // Distinct creation times keep "newest first" deterministic.
      this.created++;
      await store.create({
        jobId,
        jobType: options.jobType ?? 'sleep',
        runId: options.runId ?? null,
        ownerId: options.ownerId ?? null,
        phase,
        quote: null,
        creationTime: this.now - (options.ageMs ?? 0) - this.created,
        executionDuration: 60,
        destruction: options.destruction ?? this.now + 7 * DAY,
        parameters: [{ name: 'DURATION', value: '1' }],
        jobInfo: null,
      });
      if (options.bytes !== undefined) {
        fs.mkdirSync(path.join(this.workDir, jobId, 'out'), { recursive: true });
        fs.writeFileSync(path.join(this.workDir, jobId, 'result.txt'), Buffer.alloc(options.bytes, 'x'));
        fs.writeFileSync(path.join(this.workDir, jobId, 'out', 'extra.bin'), Buffer.alloc(100));
        const done = await store.update(
          jobId,
          {},
          {
            addResults: [
              { id: 'result', mediaType: 'text/plain', size: options.bytes, fileName: 'result.txt' },
            ],
          },
        );
        assert.ok(done.ok);
      }
      if (options.error) {
        const failed = await store.update(
          jobId,
          {},
          {
            errorSummary: { type: 'fatal', message: options.error.message, hasDetail: true },
            errorDetail: options.error.detail,
          },
        );
        assert.ok(failed.ok);
      }
      return jobId;
    } finally {
      await store.close();
    }
  }

  async phaseOf(jobId: string): Promise<Phase | null> {
    const store = await openStore(this.storeUrl);
    try {
      return (await store.get(jobId))?.phase ?? null;
    } finally {
      await store.close();
    }
  }

  hasDir(jobId: string): boolean {
    return fs.existsSync(path.join(this.workDir, jobId));
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function lines(text: string): string[] {
  return text.trimEnd().split('\n');
}

describe('ivoa-uws jobs', () => {
  const site = new Site();
  const ids: Record<string, string> = {};
  before(async () => {
    ids.pending = await site.job('PENDING', { ownerId: 'alice', runId: 'first-try' });
    ids.executing = await site.job('EXECUTING', { ownerId: 'bob' });
    ids.completed = await site.job('COMPLETED', { bytes: 1000, jobType: 'catalogue' });
    ids.error = await site.job('ERROR', {
      ownerId: 'alice',
      error: { message: 'command exited with code 3', detail: 'line one\nline two' },
    });
    ids.archived = await site.job('ARCHIVED');
  });
  after(() => site.remove());

  it('list: every job but ARCHIVED, newest first, as a table and as JSON', async () => {
    const [table, json] = await Promise.all([site.cli('jobs', 'list'), site.cli('jobs', 'list', '--json')]);
    assert.equal(table.code, 0, table.stderr);
    const rows = lines(table.stdout);
    assert.match(rows[0]!, /^JOB ID\s+PHASE\s+TYPE\s+CREATED\s+OWNER/);
    assert.deepEqual(
      rows.slice(1).map((r) => r.split(/\s+/).slice(0, 2)),
      [
        [ids.pending, 'PENDING'],
        [ids.executing, 'EXECUTING'],
        [ids.completed, 'COMPLETED'],
        [ids.error, 'ERROR'],
      ],
    );
    assert.match(rows[1]!, /alice {2}first-try$/);
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as { jobId: string; phase: string; ownerId: string | null }[];
    assert.deepEqual(
      listed.map((j) => j.jobId),
      [ids.pending, ids.executing, ids.completed, ids.error],
    );
    assert.equal(listed[2]!.ownerId, null);
  });

  it('list: filters by phase, owner, type and last', async () => {
    const runs = await Promise.all([
      site.cli('jobs', 'list', '--json', '--phase', 'error,archived'),
      site.cli('jobs', 'list', '--json', '--owner', 'alice'),
      site.cli('jobs', 'list', '--json', '--anonymous'),
      site.cli('jobs', 'list', '--json', '--type', 'catalogue'),
      site.cli('jobs', 'list', '--json', '--last', '2'),
    ]);
    const got = runs.map((run) => {
      assert.equal(run.code, 0, run.stderr);
      return (JSON.parse(run.stdout) as { jobId: string }[]).map((j) => j.jobId);
    });
    assert.deepEqual(got, [
      [ids.error, ids.archived],
      [ids.pending, ids.error],
      [ids.completed],
      [ids.completed],
      [ids.pending, ids.executing],
    ]);
  });

  it('show: every property, results with their files; JSON too', async () => {
    const [text, json, missing] = await Promise.all([
      site.cli('jobs', 'show', ids.completed!),
      site.cli('jobs', 'show', ids.completed!, '--json'),
      site.cli('jobs', 'show', 'NoSuchJob'),
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^jobId: +${ids.completed}$`, 'm'));
    assert.match(text.stdout, /^phase: +COMPLETED$/m);
    assert.match(text.stdout, /^ {2}DURATION = 1$/m);
    assert.ok(
      text.stdout.includes(
        `result  text/plain  1000 B  ${path.join(site.workDir, ids.completed!, 'result.txt')}`,
      ),
      text.stdout,
    );
    assert.equal(json.code, 0, json.stderr);
    const job = JSON.parse(json.stdout);
    assert.equal(job.jobId, ids.completed);
    assert.equal(job.phase, 'COMPLETED');
    assert.equal(job.creationTime, new Date(job.creationTime).toISOString());
    assert.deepEqual(job.results, [
      { id: 'result', mediaType: 'text/plain', size: 1000, fileName: 'result.txt' },
    ]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'ivoa-uws: there is no job NoSuchJob\n');
  });

  it('show: the error summary and the detail behind /error', async () => {
    const [text, json] = await Promise.all([
      site.cli('jobs', 'show', ids.error!),
      site.cli('jobs', 'show', ids.error!, '--json'),
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^error: +fatal: command exited with code 3$/m);
    assert.match(text.stdout, /\nerror detail:\n {2}line one\n {2}line two\n$/);
    assert.equal(json.code, 0, json.stderr);
    const job = JSON.parse(json.stdout);
    assert.deepEqual(job.errorSummary, {
      type: 'fatal',
      message: 'command exited with code 3',
      hasDetail: true,
    });
    assert.equal(job.errorDetail, 'line one\nline two');
  });

  it('abort: an EXECUTING job ends ABORTED; an ended job is left alone', async () => {
    const aborted = await site.cli('jobs', 'abort', ids.executing!);
    assert.equal(aborted.code, 0, aborted.stderr);
    assert.equal(aborted.stdout, `job ${ids.executing}: EXECUTING -> ABORTED\n`);
    assert.equal(await site.phaseOf(ids.executing!), 'ABORTED');
    const again = await site.cli('jobs', 'abort', ids.error!);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `job ${ids.error} is ERROR; nothing to abort\n`);
    assert.equal(await site.phaseOf(ids.error!), 'ERROR');
  });

  it('delete: the job and its directory are gone; a second delete says so', async () => {
    assert.ok(site.hasDir(ids.completed!));
    const deleted = await site.cli('jobs', 'delete', ids.completed!);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `job ${ids.completed} (COMPLETED) deleted\n`);
    assert.equal(await site.phaseOf(ids.completed!), null);
    assert.equal(site.hasDir(ids.completed!), false);
    const again = await site.cli('jobs', 'delete', ids.completed!);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /there is no job/);
  });

  it('a bad or unreachable store: exit 2 with one line', async () => {
    // A file where the database's folder should be: the store cannot be created.
    const blocker = path.join(site.dir, 'not-a-folder');
    fs.writeFileSync(blocker, '');
    const [bad, unreachable] = await Promise.all([
      runCli(['jobs', 'list', '--store', 'mysql://db/uws']),
      runCli(['jobs', 'list', '--store', `sqlite:${blocker}/uws.db`]),
    ]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^ivoa-uws: invalid configuration: store\.url: unsupported store URL.*\(from --store\)\n$/,
    );
    assert.equal(unreachable.code, 2);
    assert.equal(lines(unreachable.stderr).length, 1, unreachable.stderr);
    assert.match(unreachable.stderr, /^ivoa-uws: /);
  });
});

describe('ivoa-uws cleanup', () => {
  const site = new Site();
  const ids: Record<string, string> = {};
  before(async () => {
    ids.expired = await site.job('COMPLETED', { destruction: site.now - 1000, bytes: 4000 });
    ids.error = await site.job('ERROR', { bytes: 2000 });
    ids.aborted = await site.job('ABORTED');
    ids.completed = await site.job('COMPLETED', { bytes: 1000 });
    ids.oldPending = await site.job('PENDING', { ageMs: 3 * DAY });
    ids.freshPending = await site.job('PENDING');
    ids.queued = await site.job('QUEUED', { ageMs: 3 * DAY });
  });
  after(() => site.remove());

  const allIds = () => Object.values(ids);
  const existing = async () => {
    const out: string[] = [];
    for (const id of allIds()) if ((await site.phaseOf(id)) !== null) out.push(id);
    return out;
  };

  it('--dry-run (expired by default) lists what would go and the disk it frees, and changes nothing', async () => {
    const run = await site.cli('cleanup', '--dry-run');
    assert.equal(run.code, 0, run.stderr);
    const out = lines(run.stdout);
    assert.equal(out.length, 2, run.stdout);
    assert.match(out[0]!, new RegExp(`^delete +${ids.expired} +COMPLETED +expired +4\\.0 KiB$`));
    assert.equal(out[1], 'dry run: would delete 1 job (1 expired) and free 4.0 KiB');
    assert.equal(run.stderr, '', 'no progress bar when stderr is not a terminal');
    assert.deepEqual(await existing(), allIds());
    assert.ok(site.hasDir(ids.expired!));
  });

  it('--dry-run with several selections counts each job once, under its first reason', async () => {
    const run = await site.cli(
      'cleanup',
      '--expired',
      '--failed',
      '--completed',
      '--pending-older-than',
      '2d',
      '--dry-run',
    );
    assert.equal(run.code, 0, run.stderr);
    const out = lines(run.stdout);
    const listed = out.slice(0, -1).map((l) => l.split(/\s+/));
    assert.deepEqual(
      listed.map((l) => [l[1], l[3]]).sort(),
      [
        [ids.aborted, 'failed'],
        [ids.completed, 'completed'],
        [ids.error, 'failed'],
        [ids.expired, 'expired'],
        [ids.oldPending, 'pending'],
      ].sort(),
    );
    // 4000 + 2000 + 1000 bytes of results plus 100 bytes in out/ for each of the three.
    assert.equal(
      out.at(-1),
      'dry run: would delete 5 jobs (1 expired, 2 failed, 1 completed, 1 forgotten PENDING) and free 7.1 KiB',
    );
    assert.deepEqual(await existing(), allIds());
  });

  it('--failed removes ERROR and ABORTED jobs with their files, nothing else', async () => {
    const run = await site.cli('cleanup', '--failed');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'deleted 2 jobs (2 failed), freed 2.1 KiB\n');
    assert.equal(site.hasDir(ids.error!), false);
    assert.deepEqual(
      await existing(),
      allIds().filter((id) => id !== ids.error && id !== ids.aborted),
    );
  });

  it('refuses a duration it cannot read', async () => {
    const run = await site.cli('cleanup', '--pending-older-than', 'two days', '--dry-run');
    assert.equal(run.code, 2);
    assert.match(run.stderr, /expected a duration such as 90m, 36h, 2d or 1w/);
  });

  it('--all --dry-run lists every remaining job; --all removes them', async () => {
    const dry = await site.cli('cleanup', '--all', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /\ndry run: would delete 5 jobs and free 5\.1 KiB\n$/);
    const run = await site.cli('cleanup', '--all');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'deleted 5 jobs, freed 5.1 KiB\n');
    assert.deepEqual(await existing(), []);
    assert.deepEqual(
      fs.readdirSync(site.workDir).filter((n) => !n.startsWith('.')),
      [],
    );
  });
});

describe('ivoa-uws cleanup under the archive policy', () => {
  const site = new Site();
  after(() => site.remove());

  it('expired jobs are kept as ARCHIVED without their files; --all deletes them', async () => {
    const expired = await site.job('COMPLETED', { destruction: site.now - 1000, bytes: 3000 });
    const running = await site.job('EXECUTING', { destruction: site.now - 1000 });
    const kept = await site.job('COMPLETED', { bytes: 10 });
    const config = site.config({ destruction: { policy: 'archive' } });
    const dry = await site.cli('cleanup', '--dry-run', '--config', config);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /dry run: would delete 0 jobs, archive 2 jobs \(2 expired\) and free 3\.0 KiB\n$/,
    );
    const run = await site.cli('cleanup', '--config', config);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'deleted 0 jobs, archived 2 jobs (2 expired), freed 3.0 KiB\n');
    assert.equal(await site.phaseOf(expired), 'ARCHIVED');
    assert.equal(await site.phaseOf(running), 'ARCHIVED');
    assert.equal(await site.phaseOf(kept), 'COMPLETED');
    assert.equal(site.hasDir(expired), false);
    assert.equal(site.hasDir(kept), true);
    const again = await site.cli('cleanup', '--dry-run', '--config', config);
    assert.match(
      again.stdout,
      /^dry run: would delete 0 jobs and free 0 B\n$/,
      'ARCHIVED jobs do not expire again',
    );
    const all = await site.cli('cleanup', '--all', '--config', config);
    assert.equal(all.stdout, 'deleted 3 jobs, freed 110 B\n');
  });
});

describe('ivoa-uws jobs list | head', () => {
  const site = new Site();
  after(() => site.remove());

  it('ends quietly with exit 0 when the reader closes the pipe early', async () => {
    const store = await openStore(site.storeUrl);
    try {
      // Far more output than a pipe buffers, so the CLI is still writing when the reader goes.
      for (let i = 0; i < 3000; i++) {
        await store.create({
          jobId: newJobId(),
          jobType: 'sleep',
          runId: null,
          ownerId: null,
          phase: 'COMPLETED',
          quote: null,
          creationTime: site.now - i,
          executionDuration: 60,
          destruction: site.now + DAY,
          parameters: [],
          jobInfo: null,
        });
      }
    } finally {
      await store.close();
    }
    const child = spawn(
      process.execPath,
      [
        '--import',
        import.meta.resolve('tsx'),
        mainScript,
        'jobs',
        'list',
        '--json',
        '--store',
        site.storeUrl,
      ],
      { cwd: site.dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    assert.equal(await exited, 0, stderr);
    assert.equal(stderr, '');
  });
});

describe('ivoa-uws cleanup on a terminal', () => {
  const site = new Site();
  after(() => site.remove());

  it('draws a progress bar on long runs', async (t) => {
    const script = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
    if (!script) {
      t.skip('util-linux script(1) is not installed: no pseudo-terminal to run the CLI on');
      return;
    }
    const store = await openStore(site.storeUrl);
    try {
      for (let i = 0; i < 60; i++) {
        await store.create({
          jobId: newJobId(),
          jobType: 'sleep',
          runId: null,
          ownerId: null,
          phase: 'COMPLETED',
          quote: null,
          creationTime: site.now - i,
          executionDuration: 60,
          destruction: site.now - 1000,
          parameters: [],
          jobInfo: null,
        });
      }
    } finally {
      await store.close();
    }
    const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
    const command = [process.execPath, '--import', import.meta.resolve('tsx'), mainScript]
      .concat(['cleanup', '--dry-run', '--store', site.storeUrl])
      .map(quote)
      .join(' ');
    // script(1) runs the command on a pseudo-terminal and copies what it shows to stdout.
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(script, ['-qec', command, '/dev/null'], { cwd: site.dir, env: cleanEnv() });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.on('exit', (code) => resolve({ code, out }));
    });
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /measuring \[#+\] 60\/60/);
    assert.match(run.out, /dry run: would delete 60 jobs \(60 expired\) and free 0 B/);
  });
});
