import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FileReference, UploadReference } from '../core/parameters.js';
import { commandExecutor } from '../exec/executors/command.js';
import { inProcessExecutor } from '../exec/executors/in-process.js';
import { threadExecutor } from '../exec/executors/thread.js';
import type { JobTypeDefinition } from '../exec/job-type.js';
import { VOTABLE_MEDIA_TYPE, VOTABLE_TAIL, votableHead, votableRow } from './votable.js';

/**
 * The job types `ivoa-uws serve` offers out of the box, so that a new user can try
 * every part of UWS at once: a VOTable result for pyvo and TOPCAT, a Unix command,
 * an upload, a job whose duration and failure are chosen by the caller, and a
 * CPU-bound job in a worker thread.
 */
export function builtinJobTypes(): JobTypeDefinition[] {
  return [catalogue, sleeper, factor, checksum, primes];
}

/** Deterministic pseudo-random numbers (mulberry32), so a seed always gives the same table. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const catalogue: JobTypeDefinition = {
  name: 'catalogue',
  description:
    'Writes a synthetic source catalogue as a VOTable result named "result", as a TAP query would: ' +
    'ROWS rows of id, ra, dec and mag drawn from SEED.',
  parameters: [
    { name: 'ROWS', type: 'integer', default: '10', min: 0, max: 10_000_000, description: 'number of rows' },
    { name: 'SEED', type: 'integer', default: '1', description: 'seed of the pseudo-random positions' },
  ],
  timePolicy: { executionDuration: { default: 600, max: 3600 } },
  estimateSeconds: () => 1,
  executor: inProcessExecutor(async (ctx) => {
    const rows = ctx.parameters['ROWS'] as number;
    const next = random(ctx.parameters['SEED'] as number);
    const signal = ctx.signal;
    function* lines(): Generator<string> {
      yield votableHead('catalogue', [
        { name: 'id', datatype: 'long', ucd: 'meta.id;meta.main' },
        { name: 'ra', datatype: 'double', unit: 'deg', ucd: 'pos.eq.ra;meta.main' },
        { name: 'dec', datatype: 'double', unit: 'deg', ucd: 'pos.eq.dec;meta.main' },
        { name: 'mag', datatype: 'double', unit: 'mag', ucd: 'phot.mag' },
      ]);
      let chunk = '';
      for (let i = 1; i <= rows; i++) {
        const ra = (next() * 360).toFixed(6);
        const dec = (Math.asin(2 * next() - 1) * (180 / Math.PI)).toFixed(6);
        const mag = (12 + next() * 10).toFixed(3);
        chunk += votableRow([i, ra, dec, mag]);
        if (i % 1000 === 0) {
          if (signal.aborted) return;
          yield chunk;
          chunk = '';
        }
      }
      yield chunk + VOTABLE_TAIL;
    }
    await ctx.results.write('result', Readable.from(lines()), VOTABLE_MEDIA_TYPE);
  }),
};

const sleeper: JobTypeDefinition = {
  name: 'sleep',
  description:
    'Waits DURATION seconds, then completes, or fails with MESSAGE when one is given: ' +
    'for trying WAIT, ABORT, executionDuration and ERROR by hand.',
  parameters: [
    { name: 'DURATION', type: 'number', default: '5', min: 0, max: 86_400, description: 'seconds to wait' },
    {
      name: 'MESSAGE',
      type: 'string',
      maxLength: 1000,
      description: 'if given, the job fails with this message',
    },
  ],
  timePolicy: { executionDuration: { default: 600, max: 86_400 } },
  estimateSeconds: (job) => {
    const d = job.parameters.find((p) => p.name === 'DURATION');
    return d ? Number(d.value) : 5;
  },
  executor: inProcessExecutor(async (ctx) => {
    const seconds = ctx.parameters['DURATION'] as number;
    await sleep(seconds * 1000, undefined, { signal: ctx.signal });
    const message = ctx.parameters['MESSAGE'];
    if (typeof message === 'string') throw new Error(message);
    await ctx.results.write('result', `slept ${seconds} s\n`, 'text/plain');
  }),
};

const factor: JobTypeDefinition = {
  name: 'factor',
  description: 'Runs the Unix command factor(1) on NUMBER; its output is the result "result".',
  parameters: [
    { name: 'NUMBER', type: 'integer', required: true, min: 1, description: 'the integer to factor' },
  ],
  timePolicy: { executionDuration: { default: 60, max: 600 } },
  // The values arrive as separate argv entries ($1, $2): nothing a client sends is parsed by the shell.
  executor: commandExecutor({
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${...} are the command executor's placeholders
    command: ['sh', '-c', 'factor "$1" > "$2/result"', 'factor', '${NUMBER}', '${OUTDIR}'],
    resultMediaTypes: { result: 'text/plain' },
  }),
};

const checksum: JobTypeDefinition = {
  name: 'checksum',
  description:
    'Consumes uploads (DALI UPLOAD=name,param:part with a file part, or name,https-URL) and ' +
    'returns a VOTable "result" with the size and ALGORITHM digest of each.',
  parameters: [
    { name: 'UPLOAD', type: 'upload', required: true, description: 'name,URI of each table to check' },
    {
      name: 'ALGORITHM',
      type: 'enum',
      values: ['sha256', 'sha1', 'md5'],
      default: 'sha256',
      description: 'digest algorithm',
    },
  ],
  executor: inProcessExecutor(async (ctx) => {
    const algorithm = ctx.parameters['ALGORITHM'] as string;
    const uploads = (ctx.parameters['UPLOAD'] as (UploadReference | FileReference)[]) ?? [];
    let body = votableHead('checksums', [
      { name: 'name', datatype: 'char', arraysize: '*' },
      { name: 'size', datatype: 'long', unit: 'byte' },
      { name: 'digest', datatype: 'char', arraysize: '*' },
    ]);
    for (const upload of uploads) {
      if (!upload.path) throw new Error(`upload ${upload.uri} was not stored`);
      const hash = createHash(algorithm);
      let size = 0;
      for await (const chunk of createReadStream(upload.path, { signal: ctx.signal })) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      body += votableRow([upload.kind === 'upload' ? upload.name : upload.uri, size, hash.digest('hex')]);
    }
    await ctx.results.write('result', body + VOTABLE_TAIL, VOTABLE_MEDIA_TYPE);
  }),
};

// Under tsx this file is index.ts beside primes-worker.ts; once built, both are .js.
const WORKER_EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

const primes: JobTypeDefinition = {
  name: 'primes',
  description:
    'Counts the primes up to LIMIT in a worker thread (CPU-bound work that must not block the server).',
  parameters: [
    {
      name: 'LIMIT',
      type: 'integer',
      default: '1000000',
      min: 2,
      max: 500_000_000,
      description: 'upper bound',
    },
  ],
  timePolicy: { executionDuration: { default: 60, max: 600 } },
  executor: threadExecutor({ module: new URL(`./primes-worker${WORKER_EXTENSION}`, import.meta.url) }),
};
