import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BadRequestError } from '../../src/core/errors.js';
import {
  decodeParameter,
  MAX_PARAMETER_LENGTH,
  type ParameterDeclaration,
  ParameterSchema,
} from '../../src/core/parameters.js';

// Fixed so that CI runs are reproducible; fast-check prints the seed of any failure.
const SEED = 20_261_128;

/** Asserts that `fn` throws a BadRequestError naming `parameter`, and returns it. */
function refuses(fn: () => unknown, parameter: string, message?: RegExp): BadRequestError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof BadRequestError, `expected a BadRequestError, got ${String(caught)}`);
  assert.equal(caught.kind, 'BadRequest');
  assert.equal(caught.parameter, parameter);
  assert.ok(caught.message.includes(parameter), `message names ${parameter}: ${caught.message}`);
  if (message) assert.match(caught.message, message);
  return caught;
}

const decl = (type: ParameterDeclaration['type'], extra: Partial<ParameterDeclaration> = {}) =>
  ({ name: 'P', type, ...extra }) as ParameterDeclaration;

describe('string codec', () => {
  it('returns the value verbatim, whitespace and markup included', () => {
    for (const v of ['', ' x ', 'a&b<c>', 'SELECT * FROM t\n WHERE x = 1', 'é€😀', '\u0000\u0001']) {
      assert.equal(decodeParameter(decl('string'), v), v);
    }
  });

  it('honours a stricter maxLength', () => {
    assert.equal(decodeParameter(decl('string', { maxLength: 3 }), 'abc'), 'abc');
    refuses(() => decodeParameter(decl('string', { maxLength: 3 }), 'abcd'), 'P', /limit of 3/);
  });

  it('never raises the limit above 50,000 characters', () => {
    refuses(() => decodeParameter(decl('string', { maxLength: 100_000 }), 'x'.repeat(50_001)), 'P');
  });
});

describe('the 50,000-character limit', () => {
  it('is 50,000', () => {
    assert.equal(MAX_PARAMETER_LENGTH, 50_000);
  });

  it('accepts a value of exactly 50,000 characters', () => {
    const v = 'x'.repeat(50_000);
    assert.equal(decodeParameter({ name: 'QUERY', type: 'string' }, v), v);
  });

  it('refuses 50,001 characters, naming the parameter', () => {
    refuses(
      () => decodeParameter({ name: 'QUERY', type: 'string' }, 'x'.repeat(50_001)),
      'QUERY',
      /50001 characters exceeds the limit of 50000/,
    );
  });

  it('counts characters (code points), not UTF-16 code units, as the seed does', () => {
    const astral = '\u{1F600}'.repeat(50_000);
    assert.equal(astral.length, 100_000);
    assert.equal(decodeParameter({ name: 'QUERY', type: 'string' }, astral), astral);
    refuses(
      () => decodeParameter({ name: 'QUERY', type: 'string' }, `${astral}x`),
      'QUERY',
      /50001 characters exceeds the limit of 50000/,
    );
  });

  it('applies to every type, before decoding', () => {
    const long = '1'.repeat(50_001);
    for (const type of ['integer', 'number', 'enum', 'file'] as const) {
      refuses(() => decodeParameter(decl(type, { values: [long] }), long), 'P', /exceeds the limit/);
    }
  });

  it('is enforced by ParameterSchema.normalise', () => {
    const schema = new ParameterSchema([{ name: 'QUERY', type: 'string' }]);
    refuses(
      () => schema.normalise([{ name: 'query', value: 'y'.repeat(50_001) }], { complete: false }),
      'QUERY',
    );
  });
});

describe('integer codec', () => {
  const int = decl('integer');

  it('decodes signed integers, tolerating surrounding blanks', () => {
    assert.equal(decodeParameter(int, '42'), 42);
    assert.equal(decodeParameter(int, '-7'), -7);
    assert.equal(decodeParameter(int, '+7'), 7);
    assert.equal(decodeParameter(int, ' 12 '), 12);
    assert.equal(decodeParameter(int, '007'), 7);
    assert.equal(decodeParameter(int, '9007199254740991'), Number.MAX_SAFE_INTEGER);
    assert.equal(decodeParameter(int, '-9007199254740991'), Number.MIN_SAFE_INTEGER);
  });

  it('refuses huge and unsafe integers rather than rounding them', () => {
    refuses(() => decodeParameter(int, '9007199254740992'), 'P', /integer within/);
    refuses(() => decodeParameter(int, '-9007199254740993'), 'P', /integer within/);
    refuses(() => decodeParameter(int, '1'.repeat(400)), 'P');
  });

  it('refuses floats, exponents and text', () => {
    for (const v of ['1.5', '1.0', '1e3', '0x10', 'ten', '', ' ', '1 2', '--1', 'Infinity', 'NaN']) {
      refuses(() => decodeParameter(int, v), 'P', /is not an integer/);
    }
  });

  it('checks min and max', () => {
    const ranged = decl('integer', { min: 0, max: 10 });
    assert.equal(decodeParameter(ranged, '0'), 0);
    assert.equal(decodeParameter(ranged, '10'), 10);
    refuses(() => decodeParameter(ranged, '-1'), 'P', /outside the allowed range 0\.\.10/);
    refuses(() => decodeParameter(ranged, '11'), 'P', /outside the allowed range/);
  });

  it('round-trips every safe integer (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        assert.equal(decodeParameter(int, String(n)), n);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('number codec', () => {
  const num = decl('number');

  it('decodes decimal and exponent forms', () => {
    assert.equal(decodeParameter(num, '1.5'), 1.5);
    assert.equal(decodeParameter(num, '-0.25'), -0.25);
    assert.equal(decodeParameter(num, '.5'), 0.5);
    assert.equal(decodeParameter(num, '5.'), 5);
    assert.equal(decodeParameter(num, '1e3'), 1000);
    assert.equal(decodeParameter(num, '2.5E-3'), 0.0025);
    assert.equal(decodeParameter(num, ' 3 '), 3);
  });

  it('refuses text that is not a number', () => {
    for (const v of ['', 'abc', '1.2.3', '1e', 'e5', '0x10', '1,5', '.', '--1']) {
      refuses(() => decodeParameter(num, v), 'P', /is not a number/);
    }
  });

  it('checks min and max', () => {
    const ranged = decl('number', { min: -1, max: 1 });
    assert.equal(decodeParameter(ranged, '0.5'), 0.5);
    refuses(() => decodeParameter(ranged, '1.0001'), 'P', /outside the allowed range/);
    refuses(() => decodeParameter(ranged, '-Infinity'), 'P', /outside the allowed range/);
  });

  it('does not let NaN slip through a declared range', () => {
    refuses(
      () => decodeParameter(decl('number', { min: 0, max: 1 }), 'NaN'),
      'P',
      /outside the allowed range/,
    );
  });

  it('round-trips every finite double (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        // === rather than Object.is: String(-0) is '0'.
        assert.ok(decodeParameter(num, String(x)) === x, String(x));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('boolean codec (DALI-6, XSD forms)', () => {
  const bool = decl('boolean');

  it('accepts true, false, 1 and 0', () => {
    assert.equal(decodeParameter(bool, 'true'), true);
    assert.equal(decodeParameter(bool, 'false'), false);
    assert.equal(decodeParameter(bool, '1'), true);
    assert.equal(decodeParameter(bool, '0'), false);
    assert.equal(decodeParameter(bool, ' true '), true);
  });

  it('refuses anything else', () => {
    for (const v of ['yes', 'no', 't', 'f', '', '2', 'truee', 'on']) {
      refuses(() => decodeParameter(bool, v), 'P', /a boolean/);
    }
  });
});

describe('enum codec', () => {
  const format = { name: 'RESPONSEFORMAT', type: 'enum', values: ['votable', 'csv', 'text/csv'] } as const;

  it('accepts the declared values exactly', () => {
    for (const v of format.values) assert.equal(decodeParameter(format, v), v);
  });

  it('is case-sensitive (DALI-1: values keep their case)', () => {
    refuses(() => decodeParameter(format, 'VOTable'), 'RESPONSEFORMAT', /one of votable, csv, text\/csv/);
    refuses(() => decodeParameter(format, 'CSV'), 'RESPONSEFORMAT');
  });

  it('does not trim', () => {
    refuses(() => decodeParameter(format, ' csv'), 'RESPONSEFORMAT');
  });

  it('cannot be declared without values', () => {
    assert.throws(() => new ParameterSchema([{ name: 'E', type: 'enum' }]), /declares no values/);
    assert.throws(() => new ParameterSchema([{ name: 'E', type: 'enum', values: [] }]), /declares no values/);
  });
});

describe('date codec', () => {
  const date = { name: 'EPOCH', type: 'date' } as const;

  it('decodes through parseInstant to epoch milliseconds', () => {
    assert.equal(decodeParameter(date, '2015-10-26T09:00:00Z'), Date.UTC(2015, 9, 26, 9));
    assert.equal(decodeParameter(date, '2015-10-26'), Date.UTC(2015, 9, 26));
  });

  it('refuses a bad date, naming the parameter', () => {
    refuses(() => decodeParameter(date, '2015-02-30'), 'EPOCH');
    refuses(() => decodeParameter(date, 'yesterday'), 'EPOCH');
  });
});

describe('file codec', () => {
  const file = { name: 'INPUT', type: 'file' } as const;

  it('accepts an empty value (the part carried the parameter name), param: parts and http(s) URLs', () => {
    assert.deepEqual(decodeParameter(file, ''), { kind: 'file', uri: '' });
    assert.deepEqual(decodeParameter(file, 'param:table1'), { kind: 'file', uri: 'param:table1' });
    assert.deepEqual(decodeParameter(file, 'http://example.org/a.vot'), {
      kind: 'file',
      uri: 'http://example.org/a.vot',
    });
    assert.deepEqual(decodeParameter(file, 'HTTPS://example.org/a?b=c'), {
      kind: 'file',
      uri: 'HTTPS://example.org/a?b=c',
    });
  });

  it('refuses other schemes, local paths and bare text', () => {
    for (const v of [
      'ftp://example.org/x',
      'file:///etc/passwd',
      '/etc/passwd',
      'x.vot',
      'http://',
      'http:// x',
    ]) {
      refuses(() => decodeParameter(file, v), 'INPUT', /file part, a param: reference or an http\(s\) URL/);
    }
  });

  it('refuses a param: reference that names no part', () => {
    refuses(() => decodeParameter(file, 'param:'), 'INPUT');
  });
});

describe('upload codec (DALI-8)', () => {
  const upload = { name: 'UPLOAD', type: 'upload' } as const;

  it('decodes name,URI for param: and http(s) URIs', () => {
    assert.deepEqual(decodeParameter(upload, 'mytable,param:part1'), {
      kind: 'upload',
      name: 'mytable',
      uri: 'param:part1',
    });
    assert.deepEqual(decodeParameter(upload, 'T_1,https://example.org/t.vot?x=1,2'), {
      kind: 'upload',
      name: 'T_1',
      uri: 'https://example.org/t.vot?x=1,2',
    });
    assert.deepEqual(decodeParameter(upload, ' t , http://h/x '), {
      kind: 'upload',
      name: 't',
      uri: 'http://h/x',
    });
  });

  it('refuses a value without a comma', () => {
    refuses(() => decodeParameter(upload, 'mytable'), 'UPLOAD', /name,URI/);
  });

  it('refuses table names that do not match [A-Za-z][A-Za-z0-9_]*', () => {
    for (const name of ['', '1t', '_t', 't-1', 't.x', 'tä', 't t']) {
      refuses(() => decodeParameter(upload, `${name},param:p`), 'UPLOAD', /name starts with a letter/);
    }
  });

  it('refuses URIs other than param:<part> and http(s)', () => {
    for (const uri of ['', 'param:', 'ftp://h/x', 'vos://x/y', '/tmp/x', 'http://', 'part1']) {
      refuses(() => decodeParameter(upload, `t,${uri}`), 'UPLOAD', /URI is param:<part> or an http\(s\) URL/);
    }
  });

  it('is always multi-valued', () => {
    const schema = new ParameterSchema([upload]);
    const out = schema.normalise(
      [
        { name: 'UPLOAD', value: 'a,param:a' },
        { name: 'upload', value: 'b,http://h/b' },
      ],
      { complete: false },
    );
    assert.equal(out.length, 2);
  });
});

describe('ParameterSchema.normalise', () => {
  const schema = new ParameterSchema([
    { name: 'QUERY', type: 'string', required: true },
    { name: 'LANG', type: 'enum', values: ['ADQL', 'PQL'], default: 'ADQL' },
    { name: 'MAXREC', type: 'integer', min: 0 },
    { name: 'RunFlag', type: 'boolean' },
    { name: 'BAND', type: 'number', multiple: true },
  ]);

  it('matches names case-insensitively and outputs the declared names (DALI-1, PAR-8)', () => {
    const out = schema.normalise(
      [
        { name: 'query', value: 'SELECT 1' },
        { name: 'MaxRec', value: '10' },
        { name: 'RUNFLAG', value: 'true' },
      ],
      { complete: false },
    );
    assert.deepEqual(out, [
      { name: 'QUERY', value: 'SELECT 1' },
      { name: 'MAXREC', value: '10' },
      { name: 'RunFlag', value: 'true' },
    ]);
  });

  it('keeps values verbatim, not decoded or trimmed', () => {
    const out = schema.normalise(
      [
        { name: 'MAXREC', value: ' +010 ' },
        { name: 'RunFlag', value: '1' },
        { name: 'QUERY', value: '  a & b  ' },
      ],
      { complete: false },
    );
    assert.deepEqual(
      out.map((p) => p.value),
      [' +010 ', '1', '  a & b  '],
    );
  });

  it('refuses undeclared names, naming all of them once in one message', () => {
    const err = refuses(
      () =>
        schema.normalise(
          [
            { name: 'FOO', value: '1' },
            { name: 'query', value: 'x' },
            { name: 'bar', value: '2' },
            { name: 'FOO', value: '3' },
          ],
          { complete: false },
        ),
      'FOO',
    );
    assert.match(err.message, /unknown parameters FOO, bar/);
    assert.equal(err.message.match(/FOO/g)?.length, 1);
    assert.match(err.message, /accepts QUERY, LANG, MAXREC, RunFlag, BAND/);
  });

  it('refuses a single undeclared name in the singular', () => {
    const err = refuses(() => schema.normalise([{ name: 'X', value: '' }], { complete: false }), 'X');
    assert.match(err.message, /^unknown parameter X;/);
  });

  it('refuses a single-valued parameter given twice, whatever the case of its names (DALI-5)', () => {
    refuses(
      () =>
        schema.normalise(
          [
            { name: 'MAXREC', value: '1' },
            { name: 'maxrec', value: '2' },
          ],
          { complete: false },
        ),
      'MAXREC',
      /takes a single value/,
    );
  });

  it('allows several values of a multi-valued parameter, in order', () => {
    const out = schema.normalise(
      [
        { name: 'BAND', value: '1.5' },
        { name: 'band', value: '2.5' },
        { name: 'Band', value: '3' },
      ],
      { complete: false },
    );
    assert.deepEqual(out, [
      { name: 'BAND', value: '1.5' },
      { name: 'BAND', value: '2.5' },
      { name: 'BAND', value: '3' },
    ]);
  });

  it('ignores empty values, so an empty form field neither counts nor clashes', () => {
    const out = schema.normalise(
      [
        { name: 'MAXREC', value: '' },
        { name: 'MAXREC', value: '5' },
        { name: 'RunFlag', value: '' },
      ],
      { complete: false },
    );
    assert.deepEqual(out, [{ name: 'MAXREC', value: '5' }]);
  });

  it('checks each value with its codec', () => {
    refuses(() => schema.normalise([{ name: 'maxrec', value: '-1' }], { complete: false }), 'MAXREC');
    refuses(() => schema.normalise([{ name: 'lang', value: 'adql' }], { complete: false }), 'LANG');
    refuses(() => schema.normalise([{ name: 'band', value: 'x' }], { complete: false }), 'BAND');
  });

  it('with complete:true, requires required parameters and fills in defaults', () => {
    refuses(() => schema.normalise([], { complete: true }), 'QUERY', /QUERY is required/);
    refuses(() => schema.normalise([{ name: 'QUERY', value: '' }], { complete: true }), 'QUERY', /required/);
    assert.deepEqual(schema.normalise([{ name: 'query', value: 'q' }], { complete: true }), [
      { name: 'QUERY', value: 'q' },
      { name: 'LANG', value: 'ADQL' },
    ]);
    assert.deepEqual(
      schema.normalise(
        [
          { name: 'query', value: 'q' },
          { name: 'lang', value: 'PQL' },
        ],
        { complete: true },
      ),
      [
        { name: 'QUERY', value: 'q' },
        { name: 'LANG', value: 'PQL' },
      ],
    );
  });

  it('with complete:false, neither requires nor fills in', () => {
    assert.deepEqual(schema.normalise([], { complete: false }), []);
  });

  it('refuses a schema declaring one name twice, in any case', () => {
    assert.throws(
      () =>
        new ParameterSchema([
          { name: 'A', type: 'string' },
          { name: 'a', type: 'integer' },
        ]),
      /declared twice/,
    );
  });

  it('names "no parameters" when a job type declares none', () => {
    const none = new ParameterSchema([]);
    const err = refuses(() => none.normalise([{ name: 'Q', value: '1' }], { complete: false }), 'Q');
    assert.match(err.message, /accepts no parameters/);
  });
});

describe('ParameterSchema.merge (AMB-10)', () => {
  const schema = new ParameterSchema([
    { name: 'A', type: 'string' },
    { name: 'B', type: 'string', multiple: true },
    { name: 'C', type: 'string' },
  ]);

  it('replaces all old values of each name given and keeps the others', () => {
    const current = [
      { name: 'A', value: '1' },
      { name: 'B', value: 'x' },
      { name: 'B', value: 'y' },
      { name: 'C', value: '3' },
    ];
    const merged = schema.merge(current, [
      { name: 'B', value: 'z' },
      { name: 'A', value: '2' },
    ]);
    assert.deepEqual(merged, [
      { name: 'C', value: '3' },
      { name: 'B', value: 'z' },
      { name: 'A', value: '2' },
    ]);
  });

  it('changes nothing for an empty update and leaves its inputs alone', () => {
    const current = [{ name: 'A', value: '1' }];
    assert.deepEqual(schema.merge(current, []), current);
    schema.merge(current, [{ name: 'A', value: '2' }]);
    assert.deepEqual(current, [{ name: 'A', value: '1' }]);
  });
});

describe('ParameterSchema.decodeAll', () => {
  const schema = new ParameterSchema([
    { name: 'MAXREC', type: 'integer' },
    { name: 'FLAG', type: 'boolean' },
    { name: 'UPLOAD', type: 'upload' },
    { name: 'BAND', type: 'number', multiple: true },
    { name: 'LANG', type: 'enum', values: ['ADQL'], default: 'ADQL' },
  ]);

  it('gives scalars for single values and arrays for multi-valued ones', () => {
    const out = schema.decodeAll([
      { name: 'MAXREC', value: '10' },
      { name: 'FLAG', value: '0' },
      { name: 'UPLOAD', value: 't1,param:p1' },
      { name: 'UPLOAD', value: 't2,http://h/t2' },
      { name: 'BAND', value: '1.5' },
      { name: 'LANG', value: 'ADQL' },
    ]);
    assert.deepEqual(out, {
      MAXREC: 10,
      FLAG: false,
      UPLOAD: [
        { kind: 'upload', name: 't1', uri: 'param:p1' },
        { kind: 'upload', name: 't2', uri: 'http://h/t2' },
      ],
      BAND: [1.5],
      LANG: 'ADQL',
    });
  });

  it('fills in defaults of parameters not given and skips undeclared ones', () => {
    assert.deepEqual(schema.decodeAll([{ name: 'GONE', value: 'x' }]), { LANG: 'ADQL' });
  });
});

/** Strings of min..max code points cycling through a random chunk of any code points (astral included). */
function nearLimit(min: number, max: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), fc.integer({ min, max }))
    .map(([chunk, n]) => {
      const points = [...chunk];
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(points[i % points.length] as string);
      return out.join('');
    });
}

describe('properties', () => {
  const schema = new ParameterSchema([{ name: 'TEXT', type: 'string' }]);

  it('round-trips any string of at most 50,000 characters verbatim (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: 'grapheme', maxLength: 2000 }),
          fc.integer({ min: 49_000, max: 50_000 }).map((n) => 'q'.repeat(n)),
          nearLimit(49_900, 50_000),
        ),
        fc.constantFrom('TEXT', 'text', 'Text'),
        (value, name) => {
          assert.equal(decodeParameter({ name: 'TEXT', type: 'string' }, value), value);
          const out = schema.normalise([{ name, value }], { complete: false });
          assert.deepEqual(out, value === '' ? [] : [{ name: 'TEXT', value }]);
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('refuses any string of more than 50,000 characters (property)', () => {
    fc.assert(
      fc.property(nearLimit(50_001, 50_100), (value) => {
        refuses(() => schema.normalise([{ name: 'text', value }], { complete: false }), 'TEXT');
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('round-trips integers through normalise and decodeAll (property)', () => {
    const ints = new ParameterSchema([{ name: 'N', type: 'integer' }]);
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        const stored = ints.normalise([{ name: 'n', value: String(n) }], { complete: false });
        assert.deepEqual(stored, [{ name: 'N', value: String(n) }]);
        assert.deepEqual(ints.decodeAll(stored), { N: n });
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
