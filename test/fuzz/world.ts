import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Job } from '../../src/core/job.js';
import { createResultWriter } from '../../src/results/result-files.js';
import type { Caller } from '../../src/service.js';
import type { JobPatch } from '../../src/store/types.js';
import { type AuthWorld, authWorld, type Server, serve } from '../auth/fixtures.js';

/** A string that must never appear in any answer: it is only in files outside every job's directory. */
export const CANARY = 'uws-fuzz-canary-5e1f0c7a';
/** A tag that may come back escaped, never as markup, in XML and HTML answers. */
export const MARKUP = '<x-fuzz a="1">&amp;]]></x-fuzz>';

export interface FuzzWorld {
  readonly server: Server;
  readonly port: number;
  readonly root: string;
  readonly workDir: string;
  readonly auth: AuthWorld;
  /** Fixture job ids by what they are. */
  readonly jobs: Record<string, string>;
  /** Store changes seen so far (the store's own change feed). */
  changes(): number;
  /**
   * Puts back the trap fixtures (the completed jobs with links, the failed
   * one) if the campaign destroyed them, with their ids, records and files,
   * so that the traps stay in reach for the whole run. Returns how many.
   */
  restore(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A real server (startServer: SQLite file, working directories, auth with
 * Basic, bearer and proxy header, default limits but no creation rate) with
 * fixture jobs in several phases and traps: a result and an upload that are
 * symbolic links to a secret file, a job whose whole directory is a link to
 * a folder outside, values full of XML special characters.
 */
export async function fuzzWorld(root: string, runJobs = false): Promise<FuzzWorld> {
  const outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'SECRET.txt'), `${CANARY}\n`);
  fs.writeFileSync(path.join(outside, 'result-result'), `${CANARY}\n`);
  fs.writeFileSync(path.join(outside, 't'), `${CANARY}\n`);
  const auth = await authWorld(root);
  const workDir = path.join(root, 'work');
  const server = await serve(
    root,
    {
      auth: auth.auth,
      wait: { maxSeconds: 1 },
      uploads: { maxBytes: 256 * 1024, fetchTimeoutSeconds: 2 },
      // Wrong credentials are part of the mix: no throttling of them here (test/limits has that).
      limits: { jobsPerMinute: 0, authFailuresPerMinute: 0 },
      // FUZZ_LOG=error shows the service's own account of a failure.
      log: { level: (process.env['FUZZ_LOG'] as 'error' | undefined) ?? 'silent' },
    },
    runJobs,
  );
  const { service, store, workDirs } = server.uws;
  const anonymous: Caller = { ownerId: null };
  const alice: Caller = { ownerId: 'alice' };
  const bob: Caller = { ownerId: 'bob' };

  /**
   * Ends a PENDING fixture job in one store update: it never passes through
   * QUEUED, so a running scheduler never claims it.
   */
  const end = async (jobId: string, phase: 'COMPLETED' | 'ERROR', extras: JobPatch = {}) => {
    const job = await store.get(jobId);
    const now = Date.now();
    const r = await store.update(
      jobId,
      { phase: 'PENDING', version: job!.version },
      { phase, startTime: now, endTime: now, ...extras },
    );
    if (!r.ok) throw new Error(`fixture ${jobId} -> ${phase}: lost a race`);
  };
  const addResult = async (jobId: string, id: string, data: string) => {
    const writer = createResultWriter(workDirs, jobId, async (result) => {
      const job = await store.get(jobId);
      const r = await store.update(jobId, { version: job!.version }, { addResults: [result] });
      if (!r.ok) throw new Error('fixture result race');
    });
    await writer.write(id, data, 'text/plain');
  };
  const staged = async (partName: string, text: string) => {
    const s = await workDirs.stageUpload(Readable.from([text]), 1 << 20);
    return { partName, path: s.path, size: s.size, mediaType: 'text/plain' };
  };

  const pending = await service.createJob({
    jobType: 'sleep',
    caller: anonymous,
    parameters: [
      { name: 'DURATION', value: '3' },
      { name: 'MESSAGE', value: MARKUP },
      { name: 'RUNID', value: '<r&"\'>' },
    ],
  });
  const queued = await service.createJob({
    jobType: 'sleep',
    caller: alice,
    parameters: [{ name: 'PHASE', value: 'RUN' }],
  });
  // Completed, with a good result, a result that is a link to the secret, and an upload replaced by a link.
  const done = await service.createJob({
    jobType: 'checksum',
    caller: anonymous,
    parameters: [{ name: 'UPLOAD', value: 't,param:f' }],
    files: [await staged('f', 'table data')],
  });
  await addResult(done.jobId, 'result', 'fine\n');
  await addResult(done.jobId, 'evil', 'replaced by a link\n');
  const doneDir = workDirs.path(done.jobId);
  fs.rmSync(path.join(doneDir, 'result-evil'));
  fs.symlinkSync(path.join(outside, 'SECRET.txt'), path.join(doneDir, 'result-evil'));
  fs.rmSync(path.join(doneDir, 't'));
  fs.symlinkSync(path.join(outside, 't'), path.join(doneDir, 't'));
  fs.symlinkSync(path.join(outside, 'SECRET.txt'), path.join(doneDir, 'SECRET.txt'));
  await end(done.jobId, 'COMPLETED');
  // Completed, whose whole directory became a link to a folder outside.
  const linked = await service.createJob({
    jobType: 'checksum',
    caller: anonymous,
    parameters: [{ name: 'UPLOAD', value: 't,param:f' }],
    files: [await staged('f', 'other data')],
  });
  await addResult(linked.jobId, 'result', 'fine\n');
  await end(linked.jobId, 'COMPLETED');
  fs.rmSync(workDirs.path(linked.jobId), { recursive: true });
  fs.symlinkSync(outside, workDirs.path(linked.jobId));
  // Failed, with markup in its error.
  const failed = await service.createJob({ jobType: 'sleep', caller: alice, parameters: [] });
  await end(failed.jobId, 'ERROR', {
    errorSummary: { type: 'fatal', message: `failed: ${MARKUP}`, hasDetail: true },
    errorDetail: `detail ${MARKUP}`,
  });
  const bobs = await service.createJob({
    jobType: 'catalogue',
    caller: bob,
    parameters: [{ name: 'ROWS', value: '3' }],
  });

  // What the traps look like, to put them back when the campaign deletes them.
  const saved = new Map<string, { job: Job; files: string }>();
  for (const job of [done, linked, failed]) {
    const stored = (await store.get(job.jobId))!;
    const backup = path.join(root, 'fixtures', job.jobId);
    fs.mkdirSync(path.dirname(backup), { recursive: true });
    const dir = workDirs.path(job.jobId);
    if (fs.existsSync(dir) || fs.lstatSync(dir, { throwIfNoEntry: false })) {
      fs.cpSync(dir, backup, { recursive: true, verbatimSymlinks: true });
    }
    saved.set(job.jobId, { job: stored, files: backup });
  }
  const restore = async (): Promise<number> => {
    let restored = 0;
    for (const [jobId, { job, files }] of saved) {
      if (await store.get(jobId)) continue;
      const { results, errorSummary, startTime, endTime, version: _v, ...rest } = job;
      const created = await store.create({
        jobId,
        jobType: rest.jobType,
        runId: rest.runId,
        ownerId: rest.ownerId,
        phase: rest.phase,
        quote: rest.quote,
        creationTime: rest.creationTime,
        executionDuration: rest.executionDuration,
        destruction: rest.destruction,
        parameters: rest.parameters,
        jobInfo: rest.jobInfo,
      });
      await store.update(
        jobId,
        { version: created.version },
        {
          addResults: results,
          errorSummary,
          startTime,
          endTime,
          ...(errorSummary ? { errorDetail: `detail ${MARKUP}` } : {}),
        },
      );
      const dir = workDirs.path(jobId);
      fs.rmSync(dir, { recursive: true, force: true });
      if (fs.existsSync(files) || fs.lstatSync(files, { throwIfNoEntry: false })) {
        fs.cpSync(files, dir, { recursive: true, verbatimSymlinks: true });
      }
      restored++;
    }
    return restored;
  };

  // Without jobs running, nothing but the requests may change the store: the reaper would
  // destroy jobs the campaign created with a DESTRUCTION in the past while a later request runs.
  if (!runJobs) await server.uws.reaper.stop();
  let changes = 0;
  const unwatch = store.watch(() => {
    changes++;
  });
  const address = server.http.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    server,
    port: address.port,
    root,
    workDir,
    auth,
    jobs: {
      pending: pending.jobId,
      queued: queued.jobId,
      done: done.jobId,
      linked: linked.jobId,
      failed: failed.jobId,
      bobs: bobs.jobId,
    },
    changes: () => changes,
    restore,
    async close() {
      unwatch();
      await server.stop();
    },
  };
}

/**
 * Every file and link under `root` (not following links) with its size and
 * modification time, except the SQLite files (their bytes move on reads, WAL)
 * and the staging folder itself (its time moves when a refused upload is
 * spooled and removed; leftovers in it still show).
 */
export function fileSnapshot(root: string): string[] {
  const out: string[] = [];
  // With jobs running, files come and go while we look: a vanished one is simply not listed.
  const gone = (e: unknown) => (e as { code?: string }).code === 'ENOENT';
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (gone(e)) return;
      throw e;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full);
      if (/^jobs\.db/.test(rel)) continue;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(full);
      } catch (e) {
        if (gone(e)) continue;
        throw e;
      }
      if (entry.isDirectory()) {
        if (!rel.endsWith('.staging')) out.push(`${rel}/`);
        walk(full);
      } else {
        out.push(`${rel} ${st.size} ${st.mtimeMs}`);
      }
    }
  };
  walk(root);
  return out.sort();
}
