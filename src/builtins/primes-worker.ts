import type { ThreadJobFunction } from '../exec/executors/thread.js';

/**
 * Counts the primes below LIMIT with a sieve: CPU-bound JavaScript, so it runs in
 * a worker thread and the server's event loop stays free.
 */
const countPrimes: ThreadJobFunction = async (parameters, tools) => {
  const limit = parameters['LIMIT'] as number;
  const composite = new Uint8Array(limit + 1);
  let count = 0;
  for (let n = 2; n <= limit; n++) {
    if (composite[n]) continue;
    count++;
    for (let m = n * n; m <= limit; m += n) composite[m] = 1;
    // Let an abort through now and then; terminate() would stop the thread anyway.
    if ((n & 0xffff) === 0 && tools.signal.aborted) return;
  }
  await tools.writeResult('result', `${count} primes below or equal to ${limit}\n`, 'text/plain');
};

export default countPrimes;
