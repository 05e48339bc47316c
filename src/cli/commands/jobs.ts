import { type Command, InvalidArgumentError } from 'commander';
import { isPhase, PHASES, type Phase } from '../../core/phases.js';
import type { JobListFilter } from '../../store/types.js';
import { ADMIN, withAdmin } from '../admin.js';
import { type ConfigOptionValues, withConfigOptions } from '../config-options.js';
import { jobJson, jobText, summaryJson, summaryTable } from '../format.js';
import { print } from '../output.js';

interface ListOptions extends ConfigOptionValues {
  phase?: Phase[];
  owner?: string;
  anonymous?: boolean;
  type?: string;
  last?: number;
  json?: boolean;
}

/** `--phase COMPLETED,ERROR` or `--phase completed --phase error`. */
function collectPhases(value: string, previous: Phase[] = []): Phase[] {
  const out = [...previous];
  for (const part of value.split(',')) {
    const phase = part.trim().toUpperCase();
    if (!isPhase(phase))
      throw new InvalidArgumentError(`${part} is not a phase; phases are ${PHASES.join(', ')}.`);
    out.push(phase);
  }
  return out;
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a whole number >= 1.');
  return Number(value);
}

export function registerJobs(program: Command): void {
  const jobs = program
    .command('jobs')
    .description('list, show, abort or delete jobs in the configured store');

  withConfigOptions(
    jobs
      .command('list')
      .description('list jobs, newest first (every phase but ARCHIVED unless --phase says otherwise)')
      .option(
        '--phase <phase...>',
        'only jobs in these phases (repeat or separate with commas)',
        collectPhases,
      )
      .option('--owner <owner>', "only this owner's jobs")
      .option('--anonymous', 'only jobs without an owner')
      .option('--type <jobType>', 'only jobs of this job type')
      .option('--last <n>', 'only the n most recent', positiveInteger)
      .option('--json', 'print a JSON array instead of a table'),
    ['store', 'workDir'],
  ).action(async (options: ListOptions) => {
    const filter: JobListFilter = {
      ...(options.phase ? { phases: [...new Set(options.phase)] } : {}),
      ...(options.anonymous
        ? { ownerId: null }
        : options.owner !== undefined
          ? { ownerId: options.owner }
          : {}),
      ...(options.type !== undefined ? { jobType: options.type } : {}),
      ...(options.last !== undefined ? { last: options.last } : {}),
    };
    await withAdmin(options, async (service) => {
      // Streamed: a store with a million jobs must not be read into memory first.
      if (options.json) {
        let first = true;
        await print('[');
        for await (const job of service.store.list(filter)) {
          await print(`${first ? '\n' : ',\n'}  ${JSON.stringify(summaryJson(job))}`);
          first = false;
        }
        await print(first ? ']\n' : '\n]\n');
        return;
      }
      const typeWidth = Math.max(12, ...service.jobTypes.all().map((t) => t.name.length));
      const table = summaryTable(typeWidth);
      await print(`${table.header}\n`);
      for await (const job of service.store.list(filter)) await print(`${table.row(job)}\n`);
    });
  });

  withConfigOptions(
    jobs
      .command('show')
      .description('show one job: every property, parameters, results (with their files) and error')
      .argument('<jobId>')
      .option('--json', 'print JSON'),
    ['store', 'workDir'],
  ).action(async (jobId: string, options: ConfigOptionValues & { json?: boolean }) => {
    await withAdmin(options, async (service) => {
      const job = await service.getJob(jobId, ADMIN);
      // The long text behind /error (a log tail, a stack): what an operator looks for first.
      const errorDetail = job.errorSummary?.hasDetail ? await service.store.getErrorDetail(job.jobId) : null;
      if (options.json) {
        await print(`${JSON.stringify({ ...jobJson(job), errorDetail }, null, 2)}\n`);
        return;
      }
      const resultPath = (fileName: string) => {
        try {
          return service.files.filePath(job.jobId, fileName);
        } catch {
          return null;
        }
      };
      await print(jobText(job, resultPath, errorDetail));
    });
  });

  withConfigOptions(
    jobs
      .command('abort')
      .description('abort a job that is PENDING, QUEUED or EXECUTING (its work is stopped)')
      .argument('<jobId>'),
    ['store', 'workDir'],
  ).action(async (jobId: string, options: ConfigOptionValues) => {
    await withAdmin(options, async (service) => {
      const before = await service.getJob(jobId, ADMIN);
      const after = await service.abort(jobId, ADMIN);
      process.stdout.write(
        before.phase === after.phase
          ? `job ${after.jobId} is ${after.phase}; nothing to abort\n`
          : `job ${after.jobId}: ${before.phase} -> ${after.phase}\n`,
      );
    });
  });

  withConfigOptions(
    jobs
      .command('delete')
      .description('delete a job and its files (a running job is aborted first)')
      .argument('<jobId>'),
    ['store', 'workDir'],
  ).action(async (jobId: string, options: ConfigOptionValues) => {
    await withAdmin(options, async (service) => {
      const job = await service.getJob(jobId, ADMIN);
      await service.destroy(jobId, ADMIN);
      process.stdout.write(`job ${job.jobId} (${job.phase}) deleted\n`);
    });
  });
}
