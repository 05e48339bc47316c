import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../../src/store/index.js';
import { runCli } from './run-cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-cli-migrate-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('ivoa-uws migrate', () => {
  it('creates the store schema in a new file, and repeating it is harmless', async () => {
    const file = path.join(tmp, 'var', 'uws.db');
    const first = await runCli(['migrate', '--store', `sqlite:${file}`], { cwd: tmp });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `ivoa-uws: the sqlite store sqlite:${file} is up to date\n`);
    assert.ok(fs.statSync(file).size > 0);
    const store = await openStore(`sqlite:${file}`);
    try {
      assert.deepEqual(Object.values(await store.countByPhase()), new Array(10).fill(0));
    } finally {
      await store.close();
    }
    const again = await runCli(['migrate', '--store', `sqlite:${file}`], { cwd: tmp });
    assert.equal(again.code, 0, again.stderr);
  });

  it('uses the configured store: default sqlite:./var/uws.db in the working directory', async () => {
    const cwd = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    const run = await runCli(['migrate'], { cwd });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(fs.existsSync(path.join(cwd, 'var', 'uws.db')));
  });

  it('a store it cannot create: exit 2 with one line', async () => {
    const blocker = path.join(tmp, 'not-a-folder');
    fs.writeFileSync(blocker, '');
    const run = await runCli(['migrate', '--store', `sqlite:${blocker}/uws.db`], { cwd: tmp });
    assert.equal(run.code, 2);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^ivoa-uws: .*not-a-folder/);
  });
});
