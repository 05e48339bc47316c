import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWellFormedJobId, newJobId } from '../../src/core/ids.js';

describe('newJobId (URI-3, issue 2)', () => {
  it('is 22 URL-safe characters: 128 random bits in base64url', () => {
    const id = newJobId();
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    // 22 base64 characters carry 132 bits; decoding gives back the 16 random bytes.
    assert.equal(Buffer.from(id, 'base64url').length, 16);
    assert.equal(encodeURIComponent(id), id);
  });

  it('gives 10,000 distinct ids that use the whole alphabet', () => {
    const ids = new Set<string>();
    const alphabet = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = newJobId();
      assert.equal(id.length, 22);
      assert.ok(isWellFormedJobId(id), id);
      ids.add(id);
      for (const c of id) alphabet.add(c);
    }
    assert.equal(ids.size, 10_000);
    // 220,000 characters from a 64-letter alphabet: every letter shows up, '-' and '_' included.
    assert.equal(alphabet.size, 64);
    assert.ok(alphabet.has('-') && alphabet.has('_'));
  });

  it('never starts with - or _, which command lines would take for an option', () => {
    for (let i = 0; i < 20_000; i++) {
      const id = newJobId();
      assert.ok(/^[A-Za-z0-9]/.test(id), id);
    }
  });

  it('has at least 96 random bits: every one of the 128 bit positions varies', () => {
    const ones = new Array<number>(128).fill(0);
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const bytes = Buffer.from(newJobId(), 'base64url');
      for (let bit = 0; bit < 128; bit++) {
        if ((bytes[bit >> 3] as number) & (0x80 >> (bit & 7))) ones[bit] = (ones[bit] as number) + 1;
      }
    }
    // A fair bit is set in 1000 ± 3*22 of 2000 draws; allow a generous band so the test is not flaky.
    for (const [bit, count] of ones.entries()) {
      assert.ok(count > 800 && count < 1200, `bit ${bit} was set ${count} times in ${n}`);
    }
  });
});

describe('isWellFormedJobId', () => {
  it('accepts URL-safe ids of 1 to 64 characters', () => {
    for (const id of ['a', 'Z9', 'abc-DEF_123', 'x'.repeat(64), newJobId()]) {
      assert.equal(isWellFormedJobId(id), true, id);
    }
  });

  it('refuses empty, over-long and anything with other characters', () => {
    for (const id of [
      '',
      'x'.repeat(65),
      'a/b',
      '../etc',
      'a.b',
      'a b',
      'a%2F',
      'a+b',
      'a=',
      'é',
      'a\n',
      'a?x=1',
    ]) {
      assert.equal(isWellFormedJobId(id), false, JSON.stringify(id));
    }
  });
});
