import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job, JobSummary } from '../../src/core/job.js';
import { PHASES, type Phase } from '../../src/core/phases.js';
import { formatInstant } from '../../src/core/time.js';
import { jobJson, jobrefJson, parametersJson, resultsJson } from '../../src/http/json.js';
import { listStream, startList } from '../../src/http/list-stream.js';
import {
  JOBS_XML_HEAD,
  JOBS_XML_TAIL,
  jobrefXml,
  jobXml,
  parametersXml,
  resultsXml,
} from '../../src/http/xml.js';
import { escapeAttribute, escapeText, isXmlRepresentable, toXmlChars } from '../../src/http/xml-text.js';
import { uwsSchemaErrors, xpathString } from './xmllint.js';

const JOB_URL = 'https://example.org/uws/demo/async/abc_DEF-123';
const LIST_URL = 'https://example.org/uws/demo/async';
const HOSTILE = `<&>"' ]]> \t\r\n end`;
const CONTROL = 'a\u0000b\u0001c\u001fd\uFFFEe\uD800f';
const HUGE = 'x&<'.repeat(50_000 / 3 + 1).slice(0, 50_000);

function job(phase: Phase, overrides: Partial<Job> = {}): Job {
  const t = Date.UTC(2026, 0, 31, 12, 0, 0, 123);
  const ended = phase === 'COMPLETED' || phase === 'ERROR' || phase === 'ABORTED' || phase === 'ARCHIVED';
  const started = ended || phase === 'EXECUTING' || phase === 'SUSPENDED';
  return {
    jobId: 'abc_DEF-123',
    jobType: 'demo',
    runId: null,
    ownerId: null,
    phase,
    quote: null,
    creationTime: t,
    startTime: started ? t + 1000 : null,
    endTime: ended ? t + 2000 : null,
    executionDuration: 600,
    destruction: t + 86_400_000,
    parameters: [],
    results: [],
    errorSummary: null,
    jobInfo: null,
    lease: null,
    version: 1,
    ...overrides,
  };
}

function full(phase: Phase): Job {
  return job(phase, {
    runId: 'run 42',
    ownerId: 'ivo://example.org/users#alice',
    quote: Date.UTC(2026, 0, 31, 13, 0, 0, 0),
    parameters: [
      { name: 'QUERY', value: 'SELECT * FROM t WHERE a < 3 & b > "x"' },
      { name: 'UPLOAD', value: 't1,param:t1', file: { fileName: 't1', size: 10, mediaType: 'text/plain' } },
      { name: 'UPLOAD', value: 't2,https://example.com/t2', file: { fileName: 't2', size: 20 } },
    ],
    results:
      phase === 'ARCHIVED' || phase === 'PENDING' || phase === 'QUEUED'
        ? []
        : [
            { id: 'result', mediaType: 'application/x-votable+xml', size: 2048, fileName: 'result.xml' },
            {
              id: 'ext link',
              mediaType: 'text/html',
              size: null,
              href: 'https://elsewhere.example/x?a=1&b=2',
            },
          ],
    errorSummary:
      phase === 'ERROR' || phase === 'ABORTED'
        ? { type: phase === 'ERROR' ? 'fatal' : 'transient', message: 'it broke: <b>&', hasDetail: true }
        : null,
    jobInfo: { host: 'node-1', 'not a name': 'v', xmlish: 'reserved prefix' },
  });
}

describe('XML documents against UWS-v1.1.xsd', () => {
  it('XML-1..9, XML-6, JOB-GET-2: job, results and parameters documents validate in every phase, minimal and full', async () => {
    const docs: Record<string, string> = {};
    for (const phase of PHASES) {
      docs[`job-min-${phase}`] = jobXml(job(phase), JOB_URL);
      docs[`job-full-${phase}`] = jobXml(full(phase), JOB_URL);
      docs[`results-${phase}`] = resultsXml(full(phase), JOB_URL);
      docs[`params-${phase}`] = parametersXml(full(phase), JOB_URL);
      docs[`params-empty-${phase}`] = parametersXml(job(phase), JOB_URL);
      docs[`results-empty-${phase}`] = resultsXml(job(phase), JOB_URL);
    }
    assert.deepEqual(await uwsSchemaErrors(docs), []);
  });

  it('JL-GET-1, JL-GET-2, XML-5: the job list validates, empty and with every phase', async () => {
    const summaries: JobSummary[] = PHASES.map((phase, i) => ({
      jobId: `job${i}`,
      jobType: 'demo',
      runId: i % 2 ? `run ${HOSTILE}` : null,
      ownerId: i % 3 ? null : 'alice',
      phase,
      creationTime: Date.UTC(2026, 0, 1) + i,
    }));
    const full = JOBS_XML_HEAD + summaries.map((s) => jobrefXml(s, LIST_URL)).join('') + JOBS_XML_TAIL;
    const empty = JOBS_XML_HEAD + JOBS_XML_TAIL;
    assert.deepEqual(await uwsSchemaErrors({ full, empty }), []);
    assert.match(full, /<uws:jobs [^>]*version="1\.1"/);
    assert.match(full, /xlink:href="https:\/\/example\.org\/uws\/demo\/async\/job0"/);
  });

  it('XML-6: version="1.1" on job and jobs only, never on results or parameters', () => {
    assert.match(jobXml(job('PENDING'), JOB_URL), /<uws:job [^>]*version="1\.1"/);
    assert.doesNotMatch(resultsXml(full('COMPLETED'), JOB_URL), /<uws:results [^>]*version=/);
    assert.doesNotMatch(parametersXml(full('COMPLETED'), JOB_URL), /<uws:parameters [^>]*version=/);
    assert.match(JOBS_XML_HEAD, /version="1\.1"/);
  });

  it('XML-7, OBJ-24, AMB-22: absent owner, quote, start, end and destruction are xsi:nil; creationTime always there', () => {
    const xml = jobXml(job('PENDING', { destruction: null }), JOB_URL);
    for (const name of ['ownerId', 'quote', 'startTime', 'endTime', 'destruction']) {
      assert.match(xml, new RegExp(`<uws:${name} xsi:nil="true"/>`), name);
    }
    assert.match(xml, /<uws:creationTime>2026-01-31T12:00:00\.123Z<\/uws:creationTime>/);
    assert.doesNotMatch(xml, /<uws:runId/);
    assert.match(xml, /<uws:results\/>/);
  });

  it('TIME-2, TIME-4: times are the formatInstant strings', () => {
    const j = full('COMPLETED');
    const xml = jobXml(j, JOB_URL);
    for (const [name, ms] of [
      ['quote', j.quote],
      ['creationTime', j.creationTime],
      ['startTime', j.startTime],
      ['endTime', j.endTime],
      ['destruction', j.destruction],
    ] as const) {
      assert.ok(xml.includes(`<uws:${name}>${formatInstant(ms!)}</uws:${name}>`), name);
    }
  });

  it('ERR-2: errorSummary carries type, hasDetail and message', async () => {
    const xml = jobXml(full('ERROR'), JOB_URL);
    assert.match(xml, /<uws:errorSummary type="fatal" hasDetail="true">/);
    assert.equal(
      await xpathString(xml, '//*[local-name()="errorSummary"]/*[local-name()="message"]'),
      'it broke: <b>&',
    );
  });

  it('RES-2..4, RES-8: results have absolute hrefs under results/, size and mime-type', async () => {
    const xml = resultsXml(full('COMPLETED'), JOB_URL);
    assert.equal(
      await xpathString(xml, '//*[@id="result"]/@*[local-name()="href"]'),
      `${JOB_URL}/results/result`,
    );
    assert.equal(await xpathString(xml, '//*[@id="result"]/@size'), '2048');
    assert.equal(await xpathString(xml, '//*[@id="result"]/@mime-type'), 'application/x-votable+xml');
    // An external result is still reached through this server (DALI-14), which redirects.
    assert.equal(
      await xpathString(xml, '//*[@id="ext link"]/@*[local-name()="href"]'),
      `${JOB_URL}/results/ext%20link`,
    );
    assert.doesNotMatch(xml, /ext link"[^>]*size=/);
  });

  it('PAR-1, PAR-2, PAR-7: parameters use id; file values go byReference with an absolute URL', async () => {
    const xml = parametersXml(full('PENDING'), JOB_URL);
    assert.match(
      xml,
      /<uws:parameter id="UPLOAD" byReference="true">https:\/\/example\.org\/uws\/demo\/async\/abc_DEF-123\/parameters\/t1<\/uws:parameter>/,
    );
    assert.match(xml, /parameters\/t2<\/uws:parameter>/);
    assert.equal(await xpathString(xml, '//*[@id="QUERY"]'), 'SELECT * FROM t WHERE a < 3 & b > "x"');
    assert.doesNotMatch(xml, /isPost|name=/);
  });

  it('XML-12: hostile text survives the round trip exactly; characters XML cannot hold go by reference or become U+FFFD', async () => {
    const j = job('ERROR', {
      runId: HOSTILE,
      ownerId: HOSTILE,
      parameters: [
        { name: 'QUERY', value: HOSTILE },
        { name: 'BIN', value: CONTROL },
        { name: 'BIN', value: `second ${CONTROL}` },
        { name: 'BIG', value: HUGE },
        { name: `we"ird<&`, value: 'v' },
      ],
      errorSummary: { type: 'fatal', message: `${HOSTILE}${CONTROL}`, hasDetail: false },
      jobInfo: { [HOSTILE]: CONTROL, ok: HOSTILE },
    });
    const xml = jobXml(j, JOB_URL);
    const params = parametersXml(j, JOB_URL);
    assert.deepEqual(await uwsSchemaErrors({ xml, params }), []);
    assert.equal(await xpathString(xml, '//*[local-name()="runId"]'), HOSTILE);
    assert.equal(await xpathString(xml, '//*[local-name()="ownerId"]'), HOSTILE);
    assert.equal(await xpathString(params, '//*[@id="QUERY"]'), HOSTILE);
    assert.equal(await xpathString(params, '//*[@id="BIG"]'), HUGE);
    assert.equal(await xpathString(params, '//*[@id="we&quot;ird&lt;&amp;"]'), '');
    assert.equal(await xpathString(params, 'count(//*[@byReference="true"])'), '2');
    assert.match(
      params,
      /<uws:parameter id="BIN" byReference="true">https:\/\/example\.org\/uws\/demo\/async\/abc_DEF-123\/parameters\/BIN<\/uws:parameter>/,
    );
    assert.match(params, /parameters\/BIN\?index=1<\/uws:parameter>/);
    assert.equal(
      await xpathString(xml, '//*[local-name()="message"]'),
      `${HOSTILE}a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf`,
    );
    assert.equal(await xpathString(xml, '//*[local-name()="jobInfo"]/*[local-name()="ok"]'), HOSTILE);
  });

  it('escaping helpers: & < > always, quotes and whitespace in attributes, paired surrogates kept', () => {
    assert.equal(escapeText('a]]>b&c<d\r'), 'a]]&gt;b&amp;c&lt;d&#13;');
    assert.equal(escapeAttribute(`"'\t\n`), '&quot;&apos;&#9;&#10;');
    assert.equal(isXmlRepresentable('😀 ok'), true);
    assert.equal(isXmlRepresentable('\uDE00'), false);
    assert.equal(toXmlChars('😀\u0007'), '😀\uFFFD');
  });
});

describe('JSON renderings', () => {
  it('job JSON mirrors the XML: same times, nulls for absent values, files by reference, other values inline', () => {
    const j = full('ERROR');
    const doc = JSON.parse(
      jobJson({ ...j, parameters: [...j.parameters, { name: 'BIN', value: CONTROL }] }, JOB_URL),
    );
    assert.equal(doc.version, '1.1');
    assert.equal(doc.href, JOB_URL);
    assert.equal(doc.creationTime, formatInstant(j.creationTime));
    assert.equal(doc.phase, 'ERROR');
    assert.deepEqual(doc.errorSummary, { type: 'fatal', hasDetail: true, message: 'it broke: <b>&' });
    assert.deepEqual(doc.parameters[1], {
      id: 'UPLOAD',
      value: `${JOB_URL}/parameters/t1`,
      byReference: true,
    });
    assert.deepEqual(doc.parameters[3], { id: 'BIN', value: CONTROL, byReference: false });
    assert.deepEqual(doc.results[0], {
      id: 'result',
      href: `${JOB_URL}/results/result`,
      size: 2048,
      mimeType: 'application/x-votable+xml',
    });
    const pending = JSON.parse(jobJson(job('PENDING'), JOB_URL));
    assert.equal(pending.ownerId, null);
    assert.equal(pending.startTime, null);
    assert.equal(pending.quote, null);
    assert.deepEqual(JSON.parse(resultsJson(j, JOB_URL)).results.length, 2);
    assert.equal(JSON.parse(parametersJson(j, JOB_URL)).parameters.length, 3);
    assert.equal(JSON.parse(`[${jobrefJson({ ...j }, LIST_URL, 0)}]`)[0].href, `${LIST_URL}/abc_DEF-123`);
  });
});

describe('job list streaming', () => {
  it('JL-GET-3: a long list is sent in many chunks and reads its source lazily', async () => {
    let produced = 0;
    async function* source(): AsyncGenerator<JobSummary> {
      for (let i = 0; i < 5000; i++) {
        produced++;
        yield {
          jobId: `j${i}`,
          jobType: 'demo',
          runId: null,
          ownerId: null,
          phase: 'PENDING',
          creationTime: i,
        };
      }
    }
    const stream = listStream(await startList(source()), {
      head: JOBS_XML_HEAD,
      item: (s) => jobrefXml(s, LIST_URL),
      tail: JOBS_XML_TAIL,
    });
    const chunks: string[] = [];
    let producedAtFirstChunk = -1;
    for await (const chunk of stream) {
      if (producedAtFirstChunk < 0) producedAtFirstChunk = produced;
      chunks.push(String(chunk));
    }
    assert.ok(
      producedAtFirstChunk < 5000,
      `source was drained before the first chunk (${producedAtFirstChunk})`,
    );
    assert.ok(chunks.length > 10, `only ${chunks.length} chunks`);
    const doc = chunks.join('');
    assert.equal(doc.match(/<uws:jobref /g)?.length, 5000);
    assert.deepEqual(await uwsSchemaErrors({ doc }), []);
  });

  it('a source that fails at the start fails before anything is sent', async () => {
    async function* broken(): AsyncGenerator<JobSummary> {
      yield* [];
      throw new Error('store down');
    }
    await assert.rejects(startList(broken()), /store down/);
  });
});
