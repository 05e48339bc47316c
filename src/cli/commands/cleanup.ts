import { dirname } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { Job } from '../../core/job.js';
import { PHASES, type Phase } from '../../core/phases.js';
import type { UwsService } from '../../service.js';
import { withAdmin } from '../admin.js';
import { type ConfigOptionValues, withConfigOptions } from '../config-options.js';
import { diskUsage } from '../disk-usage.js';
import { parseDuration } from '../duration.js';
import { CliError, EXIT_FAILED } from '../errors.js';
import { formatBytes } from '../format.js';
import { print } from '../output.js';
import { ProgressBar } from '../progress.js';

/** Why a job goes; a job matching several is listed under the first. */
type Reason = 'expired' | 'failed' | 'completed' | 'pending' | 'all';

interface CleanupOptions extends ConfigOptionValues {
  expired?: boolean;
  failed?: boolean;
  completed?: boolean;
  pendingOlderThan?: number;
  all?: boolean;
  dryRun?: boolean;
}

interface Candidate {
  readonly jobId: string;
  readonly reason: Reason;
}

// dueForDestruction wants a bound; a dry run cannot page by deleting, so take them all at once.
const ALL_DUE = 10_000_000;

function duration(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new InvalidArgumentError('expected a duration such as 90m, 36h, 2d or 1w.');
  return ms;
}

export function registerCleanup(program: Command): void {
  const cleanup = program
    .command('cleanup')
    .description(
      'remove jobs from the store with their files: expired ones (the default), failed, completed, forgotten PENDING, or all',
    )
    .option(
      '--expired',
      'jobs past their destruction time (the default); kept as ARCHIVED under the archive policy',
    )
    .option('--failed', 'jobs that ended in ERROR or ABORTED')
    .option('--completed', 'jobs that ended COMPLETED')
    .option(
      '--pending-older-than <duration>',
      'PENDING jobs created longer ago than this (90m, 36h, 2d, 1w)',
      duration,
    )
    .option('--all', 'every job whatever its phase, ARCHIVED ones included')
    .option('--dry-run', 'change nothing: list what would go and how much disk it would free');
  withConfigOptions(cleanup, ['store', 'workDir']).action(async (options: CleanupOptions) => {
    const chosen =
      options.expired ||
      options.failed ||
      options.completed ||
      options.all ||
      options.pendingOlderThan !== undefined;
    const selection = { ...options, expired: options.expired || !chosen };
    await withAdmin(options, async (service) => {
      const now = service.now();
      const candidates = await selectJobs(service, selection, now);
      const summary = await (options.dryRun
        ? report(service, candidates, selection, now)
        : remove(service, candidates, selection, now));
      process.stdout.write(`${summary.text}\n`);
      if (summary.failures > 0) {
        throw new CliError(`${summary.failures} job(s) could not be removed (see above)`, EXIT_FAILED);
      }
    });
  });
}

async function selectJobs(service: UwsService, s: CleanupOptions, now: number): Promise<Candidate[]> {
  const found = new Map<string, Candidate>();
  const add = (jobId: string, reason: Reason) => {
    if (!found.has(jobId)) found.set(jobId, { jobId, reason });
  };
  const store = service.store;
  const listed = async (
    phases: readonly Phase[],
    reason: Reason,
    keep: (creationTime: number) => boolean,
  ) => {
    for await (const job of store.list({ phases })) if (keep(job.creationTime)) add(job.jobId, reason);
  };
  if (s.expired) for (const due of await store.dueForDestruction(now, ALL_DUE)) add(due.jobId, 'expired');
  if (s.failed) await listed(['ERROR', 'ABORTED'], 'failed', () => true);
  if (s.completed) await listed(['COMPLETED'], 'completed', () => true);
  if (s.pendingOlderThan !== undefined) {
    const cutoff = now - s.pendingOlderThan;
    await listed(['PENDING'], 'pending', (created) => created < cutoff);
  }
  if (s.all) await listed(PHASES, 'all', () => true);
  return [...found.values()];
}

/** Re-checked just before acting: a PENDING job may have been run since it was listed. */
function stillMatches(job: Job, reason: Reason, s: CleanupOptions, now: number): boolean {
  switch (reason) {
    case 'expired':
      return job.phase !== 'ARCHIVED' && job.destruction !== null && job.destruction <= now;
    case 'failed':
      return job.phase === 'ERROR' || job.phase === 'ABORTED';
    case 'completed':
      return job.phase === 'COMPLETED';
    case 'pending':
      return job.phase === 'PENDING' && job.creationTime < now - (s.pendingOlderThan ?? 0);
    case 'all':
      return true;
  }
}

function action(service: UwsService, reason: Reason): 'delete' | 'archive' {
  return reason === 'expired' && service.destructionPolicy === 'archive' ? 'archive' : 'delete';
}

async function jobDiskUsage(service: UwsService, jobId: string): Promise<number> {
  try {
    return await diskUsage(dirname(service.files.filePath(jobId, 'probe')));
  } catch {
    return 0;
  }
}

interface Summary {
  readonly text: string;
  readonly failures: number;
}

class Tally {
  deleted = 0;
  archived = 0;
  bytes = 0;
  readonly byReason = new Map<Reason, number>();

  count(reason: Reason, act: 'delete' | 'archive', bytes: number): void {
    if (act === 'delete') this.deleted++;
    else this.archived++;
    this.bytes += bytes;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
  }

  /** "(1 expired, 2 failed)"; jobs taken only because of --all need no explanation. */
  reasons(): string {
    const parts = [...this.byReason]
      .filter(([reason]) => reason !== 'all')
      .map(([reason, n]) => `${n} ${reason === 'pending' ? 'forgotten PENDING' : reason}`);
    return parts.length > 0 ? ` (${parts.join(', ')})` : '';
  }
}

const plural = (n: number) => `${n} job${n === 1 ? '' : 's'}`;

async function report(
  service: UwsService,
  candidates: Candidate[],
  s: CleanupOptions,
  now: number,
): Promise<Summary> {
  const tally = new Tally();
  const progress = new ProgressBar('measuring', candidates.length);
  const lines: string[] = [];
  for (const c of candidates) {
    const job = await service.store.get(c.jobId);
    progress.tick();
    if (!job || !stillMatches(job, c.reason, s, now)) continue;
    const act = action(service, c.reason);
    const bytes = await jobDiskUsage(service, c.jobId);
    tally.count(c.reason, act, bytes);
    lines.push(
      `${act.padEnd(7)}  ${job.jobId.padEnd(22)}  ${job.phase.padEnd(9)}  ${c.reason.padEnd(9)}  ${formatBytes(bytes)}`,
    );
  }
  progress.finish();
  for (const line of lines) await print(`${line}\n`);
  const archived = tally.archived > 0 ? `, archive ${plural(tally.archived)}` : '';
  return {
    text: `dry run: would delete ${plural(tally.deleted)}${archived}${tally.reasons()} and free ${formatBytes(tally.bytes)}`,
    failures: 0,
  };
}

async function remove(
  service: UwsService,
  candidates: Candidate[],
  s: CleanupOptions,
  now: number,
): Promise<Summary> {
  const tally = new Tally();
  const progress = new ProgressBar('cleaning up', candidates.length);
  let failures = 0;
  for (const c of candidates) {
    try {
      const job = await service.store.get(c.jobId);
      // Gone already (the reaper or another admin was quicker): that is fine.
      if (!job || !stillMatches(job, c.reason, s, now)) continue;
      const bytes = await jobDiskUsage(service, c.jobId);
      const act = action(service, c.reason);
      if (c.reason === 'expired') {
        const outcome = await service.expire(c.jobId);
        if (outcome === 'gone') continue;
        tally.count(c.reason, outcome === 'archived' ? 'archive' : 'delete', bytes);
      } else {
        await service.forget(job);
        tally.count(c.reason, act, bytes);
      }
    } catch (err) {
      failures++;
      process.stderr.write(`ivoa-uws: job ${c.jobId}: ${(err as Error).message}\n`);
    } finally {
      progress.tick();
    }
  }
  progress.finish();
  const archived = tally.archived > 0 ? `, archived ${plural(tally.archived)}` : '';
  return {
    text: `deleted ${plural(tally.deleted)}${archived}${tally.reasons()}, freed ${formatBytes(tally.bytes)}`,
    failures,
  };
}
