import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { BadRequestError, NotFoundError, PayloadTooLargeError } from '../../src/core/errors.js';
import { isPlainFileName } from '../../src/results/file-names.js';
import { WorkDirs } from '../../src/results/workdirs.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-workdirs-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => new WorkDirs(path.join(tmp, `root${n++}`));

describe('plain file names', () => {
  test('accepts ordinary names', () => {
    for (const name of ['result', 'table.vot', 'a b.csv', 'UPLOAD', 'x-1_2', 'é.txt', 'a'.repeat(200)]) {
      assert.ok(isPlainFileName(name), name);
    }
  });
  test('refuses path tricks, dot names, control characters and long names', () => {
    for (const name of [
      '',
      '.',
      '..',
      '../x',
      '/etc/passwd',
      'a/b',
      'a\\b',
      'a\0b',
      '.hidden',
      'line\nbreak',
      'a'.repeat(201),
      'é'.repeat(101),
    ]) {
      assert.equal(isPlainFileName(name), false, JSON.stringify(name));
    }
  });
});

describe('WorkDirs', () => {
  test('ensure creates a private directory; remove is recursive and idempotent', async () => {
    const wd = fresh();
    const dir = await wd.ensure('job1');
    assert.equal(dir, path.join(wd.root, 'job1'));
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(await wd.ensure('job1'), dir);
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'f'), 'x');
    await wd.remove('job1');
    assert.equal(fs.existsSync(dir), false);
    await wd.remove('job1');
  });

  test('refuses job ids that are not well formed', async () => {
    const wd = fresh();
    for (const id of ['..', '../x', 'a/b', '.staging', '']) {
      assert.throws(() => wd.path(id), BadRequestError, id);
    }
    await assert.rejects(wd.ensure('../escape'), BadRequestError);
    assert.equal(fs.existsSync(path.join(wd.root, '..', 'escape')), false);
  });

  test('listJobIds lists job directories only', async () => {
    const wd = fresh();
    assert.deepEqual(await wd.listJobIds(), []);
    await wd.ensure('a1');
    await wd.ensure('b2');
    await wd.stageUpload(Readable.from([Buffer.from('x')]), 10);
    fs.writeFileSync(path.join(wd.root, 'stray-file'), 'x');
    assert.deepEqual((await wd.listJobIds()).sort(), ['a1', 'b2']);
  });

  test('filePath refuses anything that is not a plain file name', () => {
    const wd = fresh();
    assert.equal(wd.filePath('j', 'x.csv'), path.join(wd.root, 'j', 'x.csv'));
    for (const name of ['../x', '/etc/passwd', 'a/b', '..', '.', 'a\0b', '.tmp-1']) {
      assert.throws(() => wd.filePath('j', name), BadRequestError, JSON.stringify(name));
    }
  });

  test('openForReading reads regular files and refuses a planted symbolic link', async () => {
    const wd = fresh();
    const dir = await wd.ensure('j');
    fs.writeFileSync(path.join(dir, 'ok'), 'hello');
    const secret = path.join(tmp, `secret${n}`);
    fs.writeFileSync(secret, 'secret');
    fs.symlinkSync(secret, path.join(dir, 'link'));
    fs.mkdirSync(path.join(dir, 'adir'));
    const { handle, size } = await wd.openForReading('j', 'ok');
    assert.equal(size, 5);
    assert.equal((await handle.readFile()).toString(), 'hello');
    await handle.close();
    await assert.rejects(wd.openForReading('j', 'link'), NotFoundError);
    await assert.rejects(wd.openForReading('j', 'adir'), NotFoundError);
    await assert.rejects(wd.openForReading('j', 'missing'), NotFoundError);
    await assert.rejects(wd.openForReading('j', '../j/ok'), BadRequestError);
    await assert.rejects(wd.openForReading('nojob', 'ok'), NotFoundError);
  });

  test('a job directory replaced by a symbolic link is refused', async () => {
    const wd = fresh();
    const outside = fs.mkdtempSync(path.join(tmp, 'outside-'));
    fs.writeFileSync(path.join(outside, 'f'), 'outside');
    fs.mkdirSync(wd.root, { recursive: true });
    fs.symlinkSync(outside, path.join(wd.root, 'jl'));
    await assert.rejects(wd.openForReading('jl', 'f'));
    await assert.rejects(wd.ensure('jl'));
  });

  test('stageUpload spools within the limit; adopt moves it into the job directory', async () => {
    const wd = fresh();
    const data = Buffer.alloc(100_000, 7);
    const chunks = [data.subarray(0, 30_000), data.subarray(30_000)];
    const staged = await wd.stageUpload(Readable.from(chunks), 100_000);
    assert.equal(staged.size, 100_000);
    assert.equal(path.dirname(staged.path), wd.stageDir());
    await wd.adopt('j', staged.path, 'UPLOAD');
    assert.deepEqual(fs.readFileSync(wd.filePath('j', 'UPLOAD')), data);
    assert.equal(fs.existsSync(staged.path), false);
  });

  test('stageUpload past the limit fails with PayloadTooLargeError and leaves no file', async () => {
    const wd = fresh();
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(1000, 1));
    await assert.rejects(wd.stageUpload(Readable.from(chunks), 5000), PayloadTooLargeError);
    assert.deepEqual(fs.readdirSync(wd.stageDir()), []);
  });

  test('adopt and discard accept only staged files and plain names', async () => {
    const wd = fresh();
    const staged = await wd.stageUpload(Readable.from([Buffer.from('abc')]), 10);
    await assert.rejects(wd.adopt('j', staged.path, '../evil'), BadRequestError);
    const elsewhere = path.join(tmp, `not-staged${n}`);
    fs.writeFileSync(elsewhere, 'x');
    await assert.rejects(wd.adopt('j', elsewhere, 'f'));
    await assert.rejects(wd.discard(elsewhere));
    assert.ok(fs.existsSync(elsewhere));
    await wd.discard(staged.path);
    assert.equal(fs.existsSync(staged.path), false);
    await wd.discard(staged.path);
  });

  test('stagingSweep removes only stale staged files', async () => {
    const wd = fresh();
    const old = await wd.stageUpload(Readable.from([Buffer.from('old')]), 10);
    const recent = await wd.stageUpload(Readable.from([Buffer.from('new')]), 10);
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(old.path, hourAgo, hourAgo);
    assert.equal(await wd.stagingSweep(600_000), 1);
    assert.equal(fs.existsSync(old.path), false);
    assert.ok(fs.existsSync(recent.path));
    assert.equal(await fresh().stagingSweep(0), 0);
  });
});
