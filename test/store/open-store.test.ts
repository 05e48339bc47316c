import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BadRequestError, UnavailableError } from '../../src/core/errors.js';
import { openStore, SqliteJobStore, storeFromUrl } from '../../src/store/index.js';
import { newJob } from './contract.js';

describe('openStore', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'uws-open-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [label, url] of [
    ['sqlite:/path', (d: string) => `sqlite:${d}/a.db`],
    ['sqlite:///path', (d: string) => `sqlite://${d}/b.db`],
    ['a plain path', (d: string) => `${d}/c.db`],
  ] as const) {
    it(`opens an initialised SQLite store from ${label}`, async () => {
      const store = await openStore(url(dir));
      try {
        assert.equal(store.kind, 'sqlite');
        assert.ok(store instanceof SqliteJobStore);
        await store.create(newJob('opened'));
        assert.equal((await store.get('opened'))?.jobId, 'opened');
        assert.ok(existsSync(store.file), `${store.file} exists`);
        assert.ok(store.file.startsWith(dir));
      } finally {
        await store.close();
      }
    });
  }

  it('opens an in-memory store from sqlite::memory:', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      await store.create(newJob('in-memory'));
      assert.equal((await store.get('in-memory'))?.jobId, 'in-memory');
    } finally {
      await store.close();
    }
  });

  it('hands postgres:// URLs to PostgreSQL, never to SQLite', () => {
    for (const url of ['postgres://u@h/db', 'postgresql://h/db']) {
      // Until a PostgreSQL store exists the factory says so; once it does, it builds one
      // without connecting (nothing is opened before init()).
      try {
        const store = storeFromUrl(url);
        assert.equal(store.kind, 'postgres');
      } catch (err) {
        assert.ok(err instanceof UnavailableError, String(err));
        assert.equal(err.message, 'PostgreSQL store not available');
      }
      assert.ok(!existsSync(join(process.cwd(), url)), 'no SQLite file named after the URL');
    }
  });

  it('refuses empty and unknown store URLs with a message naming them', () => {
    assert.throws(() => storeFromUrl('  '), BadRequestError);
    assert.throws(() => storeFromUrl('sqlite:'), /names no file/);
    assert.throws(() => storeFromUrl('mysql://h/db'), /unsupported store URL mysql:\/\/h\/db/);
  });
});
