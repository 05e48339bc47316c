import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, test } from 'node:test';
import { BadRequestError, NotFoundError } from '../../src/core/errors.js';
import type { JobResult } from '../../src/core/job.js';
import { createResultWriter, openResult, resultFileName } from '../../src/results/result-files.js';
import { WorkDirs } from '../../src/results/workdirs.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-results-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function setup() {
  const workDirs = new WorkDirs(path.join(tmp, `root${n++}`));
  const recorded: JobResult[] = [];
  const writer = createResultWriter(workDirs, 'job1', async (r) => {
    recorded.push(r);
  });
  return { workDirs, recorded, writer };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A deterministic pseudo-random 20 MB stream in 64 KiB chunks, and its sha256. */
function bigStream(total: number): { stream: Readable; sha: string } {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let seed = 12345;
  for (let done = 0; done < total; ) {
    const len = Math.min(65_536, total - done);
    const chunk = Buffer.alloc(len);
    for (let i = 0; i < len; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      chunk[i] = seed >>> 24;
    }
    hash.update(chunk);
    chunks.push(chunk);
    done += len;
  }
  return { stream: Readable.from(chunks), sha: hash.digest('hex') };
}

test('a 20 MB stream is written to disk and served back byte-identical', async () => {
  const { workDirs, recorded, writer } = setup();
  const total = 20 * 1024 * 1024;
  const { stream, sha } = bigStream(total);
  const result = await writer.write('big', stream, 'application/octet-stream');
  assert.deepEqual(result, {
    id: 'big',
    mediaType: 'application/octet-stream',
    size: total,
    fileName: resultFileName('big'),
  });
  assert.deepEqual(recorded, [result]);
  const served = await openResult(workDirs, 'job1', result);
  assert.equal(served.size, total);
  const back = createHash('sha256');
  for await (const c of served.stream) back.update(c as Buffer);
  assert.equal(back.digest('hex'), sha);
});

test('strings and bytes are written; writing an id again replaces the result', async () => {
  const { workDirs, recorded, writer } = setup();
  const a = await writer.write('result', '<VOTABLE/>é', 'application/x-votable+xml');
  assert.equal(a.size, Buffer.byteLength('<VOTABLE/>é'));
  await writer.write('raw', new Uint8Array([1, 2, 3]), 'application/octet-stream');
  const b = await writer.write('result', 'second', 'text/plain; charset=utf-8');
  assert.equal(recorded.length, 3);
  assert.equal((await readAll((await openResult(workDirs, 'job1', b)).stream)).toString(), 'second');
  const raw = await openResult(workDirs, 'job1', recorded[1]!);
  assert.deepEqual([...(await readAll(raw.stream))], [1, 2, 3]);
  // Only the finished results are in the directory: no temporary files stay behind.
  assert.deepEqual(fs.readdirSync(workDirs.path('job1')).sort(), ['result-raw', 'result-result']);
});

test('a reader never sees half a result: the file appears only when complete', async () => {
  const { workDirs, writer } = setup();
  const source = new PassThrough();
  const writing = writer.write('slow', source, 'text/plain');
  source.write('first half ');
  await new Promise((r) => setTimeout(r, 50));
  const dir = workDirs.path('job1');
  assert.equal(fs.existsSync(path.join(dir, resultFileName('slow'))), false);
  assert.equal(fs.readdirSync(dir).length, 1, 'only the temporary file exists');
  source.end('second half');
  const r = await writing;
  assert.equal(fs.readFileSync(path.join(dir, r.fileName!), 'utf8'), 'first half second half');
});

test('a failing stream leaves no file and records nothing', async () => {
  const { workDirs, recorded, writer } = setup();
  const source = new PassThrough();
  const writing = writer.write('broken', source, 'text/plain');
  source.write('some bytes');
  setTimeout(() => source.destroy(new Error('upstream broke')), 20);
  await assert.rejects(writing, /upstream broke/);
  assert.deepEqual(recorded, []);
  assert.deepEqual(fs.readdirSync(workDirs.path('job1')), []);
});

test('result ids with path tricks are refused before anything is written', async () => {
  const { workDirs, recorded, writer } = setup();
  for (const id of ['../x', '/etc/passwd', 'a/b', '..', '.', 'a\0b', '', '.hidden', 'x'.repeat(250)]) {
    await assert.rejects(writer.write(id, 'data', 'text/plain'), BadRequestError, JSON.stringify(id));
    await assert.rejects(writer.link(id, 'https://example.org/x', 'text/plain'), BadRequestError);
  }
  assert.deepEqual(recorded, []);
  assert.equal(fs.existsSync(path.join(workDirs.root, 'x')), false);
  await assert.rejects(writer.write('ok', 'data', 'not a media type'), BadRequestError);
});

test('a symbolic link planted in the job directory is neither followed on write nor served', async () => {
  const { workDirs, writer } = setup();
  const dir = await workDirs.ensure('job1');
  const outside = path.join(tmp, `target${n}`);
  fs.writeFileSync(outside, 'do not touch');
  fs.symlinkSync(outside, path.join(dir, resultFileName('planted')));
  const planted: JobResult = { id: 'planted', mediaType: 'text/plain', size: 12, fileName: 'result-planted' };
  await assert.rejects(openResult(workDirs, 'job1', planted), NotFoundError);
  // Writing the result replaces the link itself; the target stays untouched.
  const r = await writer.write('planted', 'new content', 'text/plain');
  assert.equal(fs.readFileSync(outside, 'utf8'), 'do not touch');
  assert.equal(fs.lstatSync(path.join(dir, r.fileName!)).isSymbolicLink(), false);
  assert.equal((await readAll((await openResult(workDirs, 'job1', r)).stream)).toString(), 'new content');
});

test('a FIFO planted as a result file is refused without blocking', async () => {
  const { workDirs } = setup();
  const dir = await workDirs.ensure('job1');
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [path.join(dir, 'result-fifo')]);
  const fifo: JobResult = { id: 'fifo', mediaType: 'text/plain', size: null, fileName: 'result-fifo' };
  await assert.rejects(openResult(workDirs, 'job1', fifo), NotFoundError);
});

test('adoptFile moves a file of the job directory into place and refuses files elsewhere', async () => {
  const { workDirs, recorded, writer } = setup();
  const dir = await workDirs.ensure('job1');
  fs.mkdirSync(path.join(dir, 'out'));
  fs.writeFileSync(path.join(dir, 'out', 'table.csv'), 'a,b\n1,2\n');
  const r = await writer.adoptFile('table.csv', path.join(dir, 'out', 'table.csv'), 'text/csv');
  assert.equal(r.size, 8);
  assert.equal(fs.existsSync(path.join(dir, 'out', 'table.csv')), false);
  assert.equal(fs.readFileSync(path.join(dir, r.fileName!), 'utf8'), 'a,b\n1,2\n');
  const outside = path.join(tmp, `outside${n}`);
  fs.writeFileSync(outside, 'x');
  await assert.rejects(writer.adoptFile('stolen', outside, 'text/plain'), /outside the working directory/);
  // An out/ folder that is a link to elsewhere does not make its files adoptable.
  const elsewhere = fs.mkdtempSync(path.join(tmp, 'elsewhere-'));
  fs.writeFileSync(path.join(elsewhere, 'f'), 'x');
  fs.symlinkSync(elsewhere, path.join(dir, 'linked'));
  await assert.rejects(writer.adoptFile('f', path.join(dir, 'linked', 'f'), 'text/plain'), /outside/);
  fs.symlinkSync(outside, path.join(dir, 'out', 'link'));
  await assert.rejects(writer.adoptFile('link', path.join(dir, 'out', 'link'), 'text/plain'), /regular file/);
  assert.ok(fs.existsSync(outside));
  assert.equal(recorded.length, 1);
});

test('link records an external result; only absolute http(s)/ftp/vos URLs', async () => {
  const { recorded, writer } = setup();
  const r = await writer.link('ext', 'https://data.example.org/x.fits', 'application/fits', 2880);
  assert.deepEqual(r, {
    id: 'ext',
    mediaType: 'application/fits',
    size: 2880,
    href: 'https://data.example.org/x.fits',
  });
  await assert.rejects(writer.link('a', 'javascript:alert(1)', 'text/html'), BadRequestError);
  await assert.rejects(writer.link('b', 'relative/path', 'text/plain'), BadRequestError);
  await assert.rejects(writer.link('c', 'https://x.org/', 'text/plain', -1), BadRequestError);
  assert.equal(recorded.length, 1);
  const { workDirs } = setup();
  await assert.rejects(openResult(workDirs, 'job1', r), NotFoundError);
});
