import { campaign } from './campaign.js';

// The same campaign with the scheduler running the jobs it creates (commands, threads, results).
campaign({
  runs: Number(process.env['FUZZ_RUNNING_RUNS'] ?? 5_000),
  seed: Number(process.env['FUZZ_SEED'] ?? 20261128),
  runJobs: true,
});
