import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { diskUsage } from '../../src/cli/disk-usage.js';
import { parseDuration } from '../../src/cli/duration.js';
import { formatBytes, redactPassword } from '../../src/cli/format.js';

describe('parseDuration', () => {
  it('reads plain seconds, units and combinations', () => {
    assert.equal(parseDuration('90'), 90_000);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('36h'), 36 * 3_600_000);
    assert.equal(parseDuration('2d'), 2 * 86_400_000);
    assert.equal(parseDuration('1w'), 7 * 86_400_000);
    assert.equal(parseDuration('1d12h'), 36 * 3_600_000);
    assert.equal(parseDuration(' 2D '), 2 * 86_400_000);
  });

  it('refuses anything else', () => {
    for (const text of ['', 'd', '2 days', '-1d', '1.5h', '2y', 'h2'])
      assert.equal(parseDuration(text), null, text);
  });
});

describe('formatBytes', () => {
  it('uses binary units with one decimal below ten', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1.0 KiB');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(20 * 1024), '20 KiB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
    assert.equal(formatBytes(3 * 1024 ** 5), '3072 TiB');
  });
});

describe('diskUsage', () => {
  it('adds up files in nested folders, counts links as themselves, and is 0 for no folder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-du-'));
    try {
      fs.mkdirSync(path.join(dir, 'out', 'deep'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'a'), Buffer.alloc(1000));
      fs.writeFileSync(path.join(dir, 'out', 'b'), Buffer.alloc(200));
      fs.writeFileSync(path.join(dir, 'out', 'deep', 'c'), Buffer.alloc(30));
      const outside = path.join(os.tmpdir(), `uws-du-outside-${process.pid}`);
      fs.writeFileSync(outside, Buffer.alloc(50_000));
      fs.symlinkSync(outside, path.join(dir, 'link'));
      const linkSize = fs.lstatSync(path.join(dir, 'link')).size;
      try {
        assert.equal(await diskUsage(dir), 1230 + linkSize);
      } finally {
        fs.rmSync(outside);
      }
      assert.equal(await diskUsage(path.join(dir, 'missing')), 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('redactPassword', () => {
  it('hides the password of a URL and leaves everything else alone', () => {
    assert.equal(redactPassword('postgres://uws:s3cr:et@db:5432/uws'), 'postgres://uws:***@db:5432/uws');
    assert.equal(redactPassword('postgresql://:only-password@db/uws'), 'postgresql://:***@db/uws');
    assert.equal(redactPassword('postgres://uws@db/uws'), 'postgres://uws@db/uws');
    assert.equal(redactPassword('sqlite:./var/uws.db'), 'sqlite:./var/uws.db');
    assert.equal(redactPassword('/data/a:b@c.db'), '/data/a:b@c.db');
  });
});
