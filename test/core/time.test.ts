import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BadRequestError } from '../../src/core/errors.js';
import { formatInstant, formatOptionalInstant, parseInstant } from '../../src/core/time.js';

// Fixed so that CI runs are reproducible; fast-check prints the seed of any failure.
const SEED = 20_261_128;
const YEAR_1970 = 0;
const END_OF_9999 = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function refuses(text: string, parameter = 'DESTRUCTION'): BadRequestError {
  let caught: unknown;
  try {
    parseInstant(text, parameter);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof BadRequestError, `'${text}' should be refused`);
  assert.equal(caught.parameter, parameter);
  assert.ok(caught.message.startsWith(`${parameter}: `), caught.message);
  return caught;
}

describe('formatInstant (TIME-2, TIME-4)', () => {
  it('writes UTC with exactly three fraction digits and Z', () => {
    assert.equal(formatInstant(Date.UTC(2015, 9, 26, 9, 0, 0, 0)), '2015-10-26T09:00:00.000Z');
    assert.equal(formatInstant(Date.UTC(2026, 0, 31, 23, 59, 59, 7)), '2026-01-31T23:59:59.007Z');
    assert.equal(formatInstant(0), '1970-01-01T00:00:00.000Z');
  });

  it('always has the one shape, whatever the instant (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: YEAR_1970, max: END_OF_9999 }), (ms) => {
        assert.match(formatInstant(ms), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('writes nothing for a missing instant', () => {
    assert.equal(formatOptionalInstant(null), '');
    assert.equal(formatOptionalInstant(0), '1970-01-01T00:00:00.000Z');
  });
});

describe('parseInstant accepts (TIME-3, DS-5, DALI-7)', () => {
  const at = (text: string) => parseInstant(text, 'DESTRUCTION');
  const nine = Date.UTC(2015, 9, 26, 9);

  it('a year alone', () => {
    assert.equal(at('2015'), Date.UTC(2015, 0, 1));
  });

  it('a basic-format date', () => {
    assert.equal(at('20151026'), Date.UTC(2015, 9, 26));
  });

  it('an extended-format date', () => {
    assert.equal(at('2015-10-26'), Date.UTC(2015, 9, 26));
    assert.equal(at('2015-10'), Date.UTC(2015, 9, 1));
  });

  it('a date and time separated by a space or T, seconds optional', () => {
    assert.equal(at('2015-10-26 09:00'), nine);
    assert.equal(at('2015-10-26T09:00'), nine);
    assert.equal(at('2015-10-26T09:00:00'), nine);
    assert.equal(at('2015-10-26T09:00:00Z'), nine);
  });

  it("pyvo's six fraction digits with Z", () => {
    assert.equal(at('2015-10-26T09:00:00.123456Z'), nine + 123);
  });

  it('nine fraction digits, cut (not rounded) to milliseconds', () => {
    assert.equal(at('2015-10-26T09:00:00.999999999Z'), nine + 999);
    assert.equal(at('2015-10-26T09:00:00.5'), nine + 500);
    assert.equal(at('2015-10-26T09:00:00,25Z'), nine + 250);
  });

  it('no zone as UTC', () => {
    assert.equal(at('2015-10-26T09:00:00.000'), nine);
  });

  it('offsets, normalised to UTC', () => {
    assert.equal(at('2015-10-26T10:00:00+01:00'), nine);
    assert.equal(at('2015-10-26T10:00:00+0100'), nine);
    assert.equal(at('2015-10-26T10:00:00+01'), nine);
    assert.equal(at('2015-10-26T03:30:00-0530'), nine);
    assert.equal(at('2015-10-26T03:30:00-05:30'), nine);
    assert.equal(at('2015-10-26T00:00:00+00:00'), Date.UTC(2015, 9, 26));
    assert.equal(at('2015-10-26T00:30:00+01:00'), Date.UTC(2015, 9, 25, 23, 30));
  });

  it('surrounding blanks', () => {
    assert.equal(at(' 2015-10-26T09:00:00Z\n'), nine);
  });

  it('29 February in leap years only', () => {
    assert.equal(at('2016-02-29'), Date.UTC(2016, 1, 29));
    assert.equal(at('2000-02-29'), Date.UTC(2000, 1, 29));
    refuses('2015-02-29');
    refuses('1900-02-29');
  });

  it('years before 100 as themselves, not as 19xx', () => {
    assert.equal(at('0050-06-01T00:00:00Z'), Date.parse('0050-06-01T00:00:00Z'));
    assert.equal(at('0000-02-29'), Date.parse('0000-02-29T00:00:00Z'), 'year 0 is a leap year');
    assert.equal(formatInstant(at('0099-12-31T23:59:59.999Z')), '0099-12-31T23:59:59.999Z');
  });
});

describe('parseInstant refuses, naming the parameter', () => {
  it('a month out of range', () => {
    const err = refuses('2015-13-01');
    assert.match(err.message, /not a valid date and time/);
    refuses('2015-00-01');
  });

  it('a day out of range', () => {
    refuses('2015-02-30');
    refuses('2015-04-31');
    refuses('2015-10-00');
  });

  it('a time out of range', () => {
    refuses('2015-10-26T25:00');
    refuses('2015-10-26T24:00:00');
    refuses('2015-10-26T09:60');
    refuses('2015-10-26T09:00:60');
  });

  it('an offset out of range', () => {
    const err = refuses('2015-10-26T09:00:00+19:00');
    assert.match(err.message, /time zone offset/);
    refuses('2015-10-26T09:00:00+01:60');
  });

  it('garbage', () => {
    for (const text of [
      '',
      'yesterday',
      'now',
      '15-10-26',
      '2015-10-26T',
      '2015-10-26T9:00',
      '2015-10-26T09:00:00ZZ',
      '2015-10-26T09:00:00.1234567890Z',
      '2015-10-26T09:00:00 UTC',
      '1445850000',
      '2015/10/26',
    ]) {
      const err = refuses(text, 'EPOCH');
      assert.match(err.message, /is not an ISO 8601 instant/);
    }
  });

  it('clips a long bad value in the message', () => {
    const err = refuses('x'.repeat(1000));
    assert.ok(err.message.length < 200, err.message);
  });
});

describe('round trips (property)', () => {
  it('parseInstant(formatInstant(ms)) === ms for every millisecond in 1970..9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: YEAR_1970, max: END_OF_9999 }), (ms) => {
        assert.equal(parseInstant(formatInstant(ms), 'T'), ms);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it('an instant written with any offset parses to the same millisecond', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(9998, 11, 31) }),
        fc.integer({ min: -18 * 60, max: 18 * 60 }),
        fc.boolean(),
        (ms, offsetMinutes, colon) => {
          const local = formatInstant(ms + offsetMinutes * 60_000).slice(0, -1);
          const sign = offsetMinutes < 0 ? '-' : '+';
          const abs = Math.abs(offsetMinutes);
          const hh = String(Math.floor(abs / 60)).padStart(2, '0');
          const mm = String(abs % 60).padStart(2, '0');
          const text = `${local}${sign}${hh}${colon ? ':' : ''}${mm}`;
          assert.equal(parseInstant(text, 'T'), ms, text);
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
