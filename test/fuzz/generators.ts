import fc from 'fast-check';
import { MARKUP } from './world.js';

/** One hostile request: everything as bytes, so nothing is escaped or checked on the way out. */
export interface FuzzRequest {
  readonly method: string;
  readonly target: Buffer;
  readonly headers: [string, Buffer][];
  readonly body: Buffer;
  /** Deliberately malformed at the HTTP level (Node's parser answers, not the app). */
  readonly malformed: boolean;
}

const b = (s: string) => Buffer.from(s, 'utf8');
const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** Percent-encodes every byte that is not unreserved, from UTF-8 (lone surrogates become U+FFFD). */
export function pct(value: string | Buffer): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const PHASE_WORDS = [
  'RUN',
  'ABORT',
  'run',
  'Abort',
  'SUSPEND',
  'PENDING',
  'QUEUED',
  'EXECUTING',
  'COMPLETED',
  'ERROR',
  'ARCHIVED',
  'HELD',
  '',
  ' RUN ',
  'R\u0000UN',
  'RUNRUN',
];
const DATES = [
  '2026-11-28T12:00:00Z',
  '2030-01-01T00:00:00.123Z',
  '2026-11-28T12:00:00+05:30',
  '2026-11-28T12:00:00',
  '2026-13-45T25:61:61Z',
  '2026-02-30T00:00:00Z',
  '0000-00-00',
  '-271821-04-20T00:00:00Z',
  '+275760-09-13T00:00:00.001Z',
  '1970-01-01T00:00:00Z',
  '1969-12-31T23:59:59.999Z',
  '9999-12-31T23:59:59Z',
  '2026-11-28',
  'T',
  'now',
  '1e10',
  '2026-11-28T12:00:00.1234567890123Z',
  '２０２６-11-28T12:00:00Z',
];
const NUMBERS = [
  '0',
  '-1',
  '1',
  '3',
  '100',
  '1e309',
  '-1e309',
  'NaN',
  'Infinity',
  '-0',
  '0x10',
  '1_000',
  ' 5 ',
  '9'.repeat(400),
  '2147483647',
  '2147483648',
  '-2147483649',
  '9007199254740993',
  '4.5',
  '.5',
  '5.',
  '1e-400',
  '+1',
  '٣',
  '',
];
const NAMES = [
  'PHASE',
  'phase',
  'WAIT',
  'wait',
  'AFTER',
  'LAST',
  'RUNID',
  'runId',
  'DESTRUCTION',
  'EXECUTIONDURATION',
  'ACTION',
  'DURATION',
  'MESSAGE',
  'ROWS',
  'SEED',
  'NUMBER',
  'UPLOAD',
  'upload',
  'ALGORITHM',
  'index',
  'QUERY',
  'REQUEST',
  'LANG',
  'FORMAT',
  'MAXREC',
  '',
  '=',
  '&',
  '..',
  'x'.repeat(300),
  MARKUP,
  '\u0000',
  'ñ',
];
const UPLOADS = [
  't,param:f',
  'u,param:g',
  '../x,param:f',
  't,param:',
  't,param:../../outside/SECRET.txt',
  ',',
  'a,b,c',
  't',
  't,file:///etc/passwd',
  't,http://127.0.0.1:1/',
  't,http://[::1]:1/x',
  't,ftp://127.0.0.1/x',
  `${MARKUP},param:f`,
  't,http://127.0.0.1:SELFPORT/sleep/capabilities',
  't,http://127.0.0.1:SELFPORT/sleep/async?PHASE=RUN',
];
const TEXTS = [
  MARKUP,
  '"\'<>&',
  ']]>',
  '\u0000',
  '\u0001\u001f\u007f',
  '\uFFFE\uFFFF',
  '\uD800',
  '\uDFFF\uD800',
  '😀'.repeat(10),
  '\u202Eevil',
  'a\r\nX-Injected: 1',
  '%',
  '%zz',
  '%C3%28',
  '%FF',
  '../../outside/SECRET.txt',
  '/etc/passwd',
  'x'.repeat(1000),
  'x'.repeat(50_001),
  '<'.repeat(60_000),
  'é'.repeat(25_001),
  ' ',
  '',
];
const TYPES = [
  'sleep',
  'checksum',
  'catalogue',
  'factor',
  'SLEEP',
  'nope',
  '..',
  '%73leep',
  '',
  'sleep%00',
  'async',
];
const LEAVES = ['async', 'sync', 'capabilities', 'availability', 'tables', 'examples', '', 'async/', 'ASYNC'];
const SUBS = [
  'phase',
  'parameters',
  'results',
  'owner',
  'error',
  'quote',
  'destruction',
  'executionduration',
  'PHASE',
  'jobInfo',
  '',
  'phase/',
  'results/',
];
const FILE_NAMES = [
  'result',
  'evil',
  't',
  'f',
  'UPLOAD',
  'DURATION',
  'MESSAGE',
  'ROWS',
  'SECRET.txt',
  'result-evil',
  'result-result',
  '..',
  '.',
  '%2e%2e',
  '..%2F..%2Foutside%2FSECRET.txt',
  '%2e%2e%2f%2e%2e%2fjobs.db',
  '..%5c..%5coutside%5cSECRET.txt',
  '%2Fetc%2Fpasswd',
  '.tmp-x',
  '%00',
  'x'.repeat(500),
  '%E2%80%AE',
  '%FF',
  '%zz',
  'jobs.db',
  '..%252F',
];

/** Values of any kind: words, dates, numbers, uploads, hostile text, and random strings. */
const value: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PHASE_WORDS, ...DATES, ...NUMBERS) },
  { weight: 2, arbitrary: fc.constantFrom(...UPLOADS, ...TEXTS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const name: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12, unit: 'binary' }) },
);

/** name=value, encoded properly, raw (as UTF-8 bytes, unescaped), or with broken escapes. */
const pair: fc.Arbitrary<Buffer> = fc
  .tuple(name, value, fc.constantFrom('pct', 'pct', 'pct', 'raw', 'broken'))
  .map(([n, v, how]) => {
    if (how === 'pct') return b(`${pct(n)}=${pct(v)}`);
    if (how === 'raw') return Buffer.concat([b(n), b('='), b(v)]);
    return b(`${pct(n)}=${pct(v).slice(0, -1)}%${v.length % 2 ? 'G' : ''}`);
  });

const pairs = (max: number): fc.Arbitrary<Buffer> =>
  fc
    .array(pair, { maxLength: max })
    .map((ps) => Buffer.concat(ps.flatMap((p, i) => (i ? [b('&'), p] : [p]))));

/** Request targets over the whole UWS tree, with fixture ids and hostile names. */
export function target(jobs: readonly (readonly [string, string])[]): fc.Arbitrary<Buffer> {
  const type = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom('sleep', 'checksum', 'catalogue') },
    { weight: 1, arbitrary: fc.constantFrom(...TYPES) },
  );
  // Mostly a fixture job at its own type's URL, sometimes at another's, sometimes no job at all.
  const job = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...jobs) },
    { weight: 1, arbitrary: fc.tuple(type, fc.constantFrom(...jobs.map(([, i]) => i))) },
    {
      weight: 1,
      arbitrary: fc.tuple(
        type,
        fc.constantFrom(...FILE_NAMES, 'nonexistent', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
      ),
    },
  );
  // The names that exist (and the traps) half the time, hostile ones the other half.
  const file = fc.oneof(
    fc.constantFrom('result', 'evil', 't', 'UPLOAD', 'MESSAGE', 'DURATION', 'SECRET.txt'),
    fc.constantFrom(...FILE_NAMES),
  );
  const path = fc.oneof(
    fc.constant('/'),
    fc.tuple(type, fc.constantFrom(...LEAVES)).map(([t, l]) => `/${t}/${l}`),
    // The job lists and the sync facade: where jobs are created.
    { weight: 4, arbitrary: type.map((t) => `/${t}/async`) },
    { weight: 1, arbitrary: type.map((t) => `/${t}/sync`) },
    { weight: 3, arbitrary: job.map(([t, i]) => `/${t}/async/${i}`) },
    {
      weight: 4,
      arbitrary: fc.tuple(job, fc.constantFrom(...SUBS)).map(([[t, i], s]) => `/${t}/async/${i}/${s}`),
    },
    { weight: 3, arbitrary: fc.tuple(job, file).map(([[t, i], f]) => `/${t}/async/${i}/results/${f}`) },
    { weight: 3, arbitrary: fc.tuple(job, file).map(([[t, i], f]) => `/${t}/async/${i}/parameters/${f}`) },
    job.map(([t, i]) => `/${t}/sync/${i}`),
    fc.tuple(job, file).map(([[t, i], f]) => `/${t}/async/${i}/../../${f}`),
    fc.constantFrom(
      '//sleep//async',
      '/sleep/./async',
      '/sleep/async/../async',
      '/%2e%2e/%2e%2e/outside/SECRET.txt',
      '*',
    ),
    fc.string({ maxLength: 30, unit: 'binary' }).map((s) => `/${pct(s)}`),
  );
  return fc
    .tuple(path, fc.option(pairs(5), { freq: 2 }), fc.constantFrom('', '', '', '#frag', '?', '?&&=', '?%'))
    .map(([p, q, tail]) => Buffer.concat([b(p), q ? Buffer.concat([b('?'), q]) : b(''), b(tail)]));
}

/** A multipart body, well-formed or broken in one of the ways real clients and attackers break it. */
const multipart: fc.Arbitrary<{ contentType: string; body: Buffer }> = fc
  .record({
    boundary: fc.constantFrom(
      'XyZ',
      'a'.repeat(70),
      '----WebKitFormBoundary7MA4YWxkTrZu0gW',
      'b o u n d',
      '"quoted"',
      '',
    ),
    fields: fc.array(fc.tuple(name, value), { maxLength: 5 }),
    files: fc.array(
      fc.tuple(
        fc.constantFrom('f', 'g', 'UPLOAD', 'DATA', '../f', MARKUP),
        fc.constantFrom(
          'f.txt',
          '../../outside/evil.txt',
          '/etc/passwd',
          '..',
          '',
          'a\u0000b',
          MARKUP,
          'x'.repeat(300),
        ),
        fc.oneof(
          fc.constantFrom('small data', 'x'.repeat(300_000), ''),
          fc.string({ maxLength: 200, unit: 'binary' }),
        ),
      ),
      { maxLength: 3 },
    ),
    breakage: fc.constantFrom(
      'none',
      'none',
      'none',
      'no-final',
      'wrong-boundary',
      'no-disposition',
      'garbage-headers',
      'lf-only',
      'no-boundary-param',
      'truncated',
    ),
  })
  .map(({ boundary, fields, files, breakage }) => {
    const bound = breakage === 'wrong-boundary' ? `${boundary}X` : boundary;
    const nl = breakage === 'lf-only' ? '\n' : '\r\n';
    const chunks: Buffer[] = [];
    for (const [n, v] of fields) {
      const disposition =
        breakage === 'no-disposition' ? '' : `Content-Disposition: form-data; name="${n}"${nl}`;
      chunks.push(
        b(`--${bound}${nl}${disposition}${breakage === 'garbage-headers' ? `\u0001: \u00ff${nl}` : ''}${nl}`),
        b(v),
        b(nl),
      );
    }
    for (const [n, filename, content] of files) {
      chunks.push(
        b(
          `--${bound}${nl}Content-Disposition: form-data; name="${n}"; filename="${filename}"${nl}Content-Type: text/plain${nl}${nl}`,
        ),
        b(content),
        b(nl),
      );
    }
    if (breakage !== 'no-final') chunks.push(b(`--${bound}--${nl}`));
    let body = Buffer.concat(chunks);
    if (breakage === 'truncated') body = body.subarray(0, Math.floor(body.length / 2));
    const contentType =
      breakage === 'no-boundary-param' ? 'multipart/form-data' : `multipart/form-data; boundary=${boundary}`;
    return { contentType, body };
  });

/** Bodies a job type accepts, with hostile extras mixed in, so that creations and changes succeed too. */
const VALID_BODIES = [
  'DURATION=1',
  'DURATION=0&PHASE=RUN',
  'DURATION=2&RUNID=%3Cx-fuzz%3E%26%22%27',
  `DURATION=1&MESSAGE=${pct(MARKUP)}`,
  'ROWS=5&SEED=2',
  'ROWS=3&PHASE=RUN&DESTRUCTION=2030-01-01T00:00:00Z',
  'NUMBER=12',
  'UPLOAD=t,http://127.0.0.1:SELFPORT/sleep/capabilities',
  'PHASE=RUN',
  'PHASE=ABORT',
  'DESTRUCTION=2031-06-01T12:00:00Z',
  'EXECUTIONDURATION=30',
  'ACTION=DELETE',
  'TAG=a&TAG=b',
];
const validish: fc.Arbitrary<Buffer> = fc
  .tuple(fc.constantFrom(...VALID_BODIES), fc.option(pair, { freq: 3 }))
  .map(([body, extra]) => (extra ? Buffer.concat([b(body), b('&'), extra]) : b(body)));

const bodyAndType: fc.Arbitrary<{ contentType: string | null; body: Buffer }> = fc.oneof(
  {
    weight: 3,
    arbitrary: validish.map((body) => ({ contentType: 'application/x-www-form-urlencoded', body })),
  },
  {
    weight: 4,
    arbitrary: pairs(8).map((body) => ({ contentType: 'application/x-www-form-urlencoded', body })),
  },
  { weight: 3, arbitrary: multipart },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          null,
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded; charset=latin1',
          'application/xml',
          'garbage',
          ';;;',
          'multipart/mixed; boundary=x',
        ),
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
          pairs(4),
        ),
      )
      .map(([contentType, body]) => ({ contentType, body })),
  },
  { weight: 1, arbitrary: fc.constant({ contentType: null, body: Buffer.alloc(0) }) },
);

/** Credentials of several owners, wrong ones, and garbage. */
function authorization(valid: readonly string[]): fc.Arbitrary<[string, Buffer][]> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant<[string, Buffer][]>([]) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(...valid).map((v): [string, Buffer][] => [['Authorization', latin1(v)]]),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('alice', 'bob', '', 'root\u0001', 'x'.repeat(300))
        .map((u): [string, Buffer][] => [['X-Remote-User', b(u)]]),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('Basic ', 'Bearer ', 'basic', 'Digest ', ''), fc.uint8Array({ maxLength: 60 }))
        .map(([scheme, bytes]): [string, Buffer][] => [
          [
            'Authorization',
            Buffer.concat([latin1(scheme), Buffer.from(Buffer.from(bytes).toString('base64'))]),
          ],
        ]),
    },
  );
}

const OTHER_HEADERS: [string, string][] = [
  ['Accept', 'application/json'],
  ['Accept', 'text/html'],
  ['Accept', 'application/xml;q=0.1, application/json;q=abc'],
  ['Accept', '*/*;q=0'],
  ['Accept', ''],
  ['Accept', 'text/*, application/x-votable+xml'],
  ['X-Forwarded-For', '10.0.0.1, <script>'],
  ['X-Forwarded-Host', 'evil.example'],
  ['X-Forwarded-Proto', 'gopher'],
  ['Range', 'bytes=999999999-'],
  ['Range', 'bytes=0-0,1-1,2-2'],
  ['If-None-Match', '*'],
  ['Accept-Encoding', 'gzip;q=2, br'],
  ['Accept-Language', MARKUP],
  ['Cookie', 'a=b; c'],
  ['Origin', 'null'],
  ['Expect', '100-continue'],
];

/** Requests at every endpoint with every kind of hostile input. */
export function fuzzRequest(
  jobs: readonly (readonly [string, string])[],
  validAuth: readonly string[],
  port: number,
): fc.Arbitrary<FuzzRequest> {
  const host = fc.oneof(
    { weight: 12, arbitrary: fc.constant(`127.0.0.1:${port}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'evil"<>host',
        '',
        'a b',
        'localhost:99999',
        '[::1]:x',
        `${'h'.repeat(300)}:1`,
      ),
    },
  );
  return fc
    .record({
      method: fc.oneof(
        {
          weight: 12,
          arbitrary: fc.constantFrom(
            'GET',
            'GET',
            'GET',
            'POST',
            'POST',
            'POST',
            'DELETE',
            'HEAD',
            'PUT',
            'PATCH',
            'OPTIONS',
          ),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'PROPFIND',
            'TRACE',
            'CONNECT',
            'get',
            'G E T',
            'BREW',
            'SEARCH',
            'QUERY',
          ),
        },
      ),
      target: target(jobs),
      host,
      auth: authorization(validAuth),
      extra: fc.subarray(OTHER_HEADERS, { maxLength: 3 }),
      payload: bodyAndType,
      smuggle: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
    })
    .map(({ method, target, host, auth, extra, payload, smuggle }) => {
      const headers: [string, Buffer][] = [];
      if (host !== '') headers.push(['Host', latin1(host)]);
      headers.push(...auth, ...extra.map(([n, v]): [string, Buffer] => [n, b(v)]));
      const withBody =
        method !== 'GET' && method !== 'HEAD' ? payload : { contentType: null, body: Buffer.alloc(0) };
      if (withBody.contentType) headers.push(['Content-Type', b(withBody.contentType)]);
      if (smuggle) headers.push(['Transfer-Encoding', b('chunked')]);
      const port_ = String(port);
      const body = Buffer.from(withBody.body.toString('latin1').replaceAll('SELFPORT', port_), 'latin1');
      const t = Buffer.from(target.toString('latin1').replaceAll('SELFPORT', port_), 'latin1');
      const malformed =
        smuggle ||
        !/^[A-Z]+$/.test(method) ||
        t.some((byte) => byte <= 0x20 || byte >= 0x7f) ||
        headers.some(([, v]) => v.some((byte) => (byte < 0x20 && byte !== 0x09) || byte === 0x7f)) ||
        host === '' ||
        host.includes(' ');
      return { method, target: t, headers, body, malformed };
    });
}
