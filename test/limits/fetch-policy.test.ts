import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPublicUrl } from '../../src/security/fetch-policy.js';

describe('by-reference uploads: internal addresses refused (SSRF)', () => {
  it('refuses loopback, private, link-local, unspecified and localhost hosts in every spelling', () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://127.1.2.3:8080/x',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0/',
      'http://[::1]/',
      'http://[::]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:7f00:1]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3/',
      'http://172.16.0.1/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://localhost:8080/',
      'http://LOCALHOST/',
      'http://api.localhost/',
    ]) {
      assert.equal(isPublicUrl(new URL(url)), false, url);
    }
  });

  it('lets public addresses and names through', () => {
    for (const url of [
      'http://example.org/t.vot',
      'https://8.8.8.8/',
      'http://[2001:db8::1]/',
      'https://172.32.0.1/',
    ]) {
      assert.equal(isPublicUrl(new URL(url)), true, url);
    }
  });
});
