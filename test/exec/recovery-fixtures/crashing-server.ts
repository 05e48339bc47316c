// A server process that starts two long jobs and reports READY; the test kills it with SIGKILL.
import { createUwsService } from '../../../src/app.js';
import { eventually } from '../../helpers/tmp.js';
import { recoveryJobTypes } from './job-types.js';

const [dbFile, workDir] = process.argv.slice(2) as [string, string];
const uws = await createUwsService({
  store: `sqlite:${dbFile}`,
  workDir,
  jobTypes: recoveryJobTypes,
  maxExecuting: 4,
});
await uws.start();
const ids: string[] = [];
for (const jobType of ['once', 'again']) {
  const job = await uws.service.createJob({
    jobType,
    caller: { ownerId: null },
    parameters: [{ name: 'PHASE', value: 'RUN' }],
  });
  ids.push(job.jobId);
}
await eventually(async () => {
  const jobs = await Promise.all(ids.map((id) => uws.store.get(id)));
  return jobs.every((j) => j?.phase === 'EXECUTING' && j.results.length === 1);
});
process.stdout.write(`READY ${ids.join(' ')}\n`);
setInterval(() => {}, 1000);
