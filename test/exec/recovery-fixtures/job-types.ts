import { setTimeout as sleep } from 'node:timers/promises';
import { inProcessExecutor } from '../../../src/exec/executors/in-process.js';
import type { JobTypeDefinition } from '../../../src/exec/job-type.js';

/** Jobs that run until stopped: one type that may be restarted after a crash, one that may not. */
const slow = inProcessExecutor(async (ctx) => {
  await ctx.results.write('started', `started by ${process.pid}`, 'text/plain');
  await sleep(60_000, undefined, { signal: ctx.signal });
});

export const recoveryJobTypes: JobTypeDefinition[] = [
  { name: 'once', executor: slow },
  { name: 'again', restartable: true, executor: slow },
];
