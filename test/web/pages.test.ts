import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import type { Job, JobSummary } from '../../src/core/job.js';
import { PHASES } from '../../src/core/phases.js';
import { compileJobType } from '../../src/exec/job-type.js';
import { STATIC_FILES, UWS_JS } from '../../src/web/assets.js';
import { formatDuration, formatSize } from '../../src/web/format.js';
import {
  escapeHtml,
  html,
  renderCreateForm,
  renderJobListPage,
  renderJobPage,
  renderServicePage,
} from '../../src/web/index.js';
import { PAGE_SIZE, parseJobListQuery } from '../../src/web/job-list-page.js';
import { count, wellFormednessErrors, xpath } from './xmllint.js';

const HOSTILE = `<script>alert("x")</script>' onmouseover="alert(1)" & <img src=x onerror=alert(2)>`;
const ROOT = 'http://127.0.0.1:9/uws';
const LIST = `${ROOT}/demo/async`;

const demo = compileJobType({
  name: 'demo',
  description: `A demo ${HOSTILE}`,
  parameters: [
    { name: 'QUERY', type: 'string', description: HOSTILE, maxLength: 100 },
    { name: 'N', type: 'integer', min: 0, max: 100, default: '7', required: true },
    { name: 'X', type: 'number' },
    { name: 'FLAG', type: 'boolean' },
    { name: 'MODE', type: 'enum', values: ['fast', `s"low<`], required: true },
    { name: 'WHEN', type: 'date' },
    { name: 'DATA', type: 'file' },
    { name: 'UPLOAD', type: 'upload', required: true },
    { name: 'TAG', type: 'string', multiple: true },
  ],
  executor: { kind: 'in-process', execute: async () => ({ status: 'completed' }) },
});

const plain = compileJobType({
  name: 'plain',
  parameters: [{ name: 'ROWS', type: 'integer' }],
  executor: { kind: 'in-process', execute: async () => ({ status: 'completed' }) },
});

function job(overrides: Partial<Job> = {}): Job {
  return {
    jobId: 'AbC_123-xyz',
    jobType: 'demo',
    runId: HOSTILE,
    ownerId: HOSTILE,
    phase: 'ERROR',
    quote: null,
    creationTime: Date.UTC(2026, 0, 31, 12),
    startTime: Date.UTC(2026, 0, 31, 12, 0, 1),
    endTime: Date.UTC(2026, 0, 31, 12, 0, 2),
    executionDuration: 600,
    destruction: Date.UTC(2026, 1, 7, 12),
    parameters: [
      { name: 'QUERY', value: HOSTILE },
      { name: 'TAG', value: `nul\u0000 and lone \uD800 surrogate` },
      { name: 'TAG', value: 'y'.repeat(2000) },
      { name: 'DATA', value: 'param:DATA', file: { fileName: 'DATA', size: 1234 } },
    ],
    results: [{ id: `res<"'>`, mediaType: 'application/x-votable+xml', size: 4321, fileName: 'res' }],
    errorSummary: { type: 'fatal', message: HOSTILE, hasDetail: true },
    jobInfo: null,
    lease: null,
    version: 3,
    ...overrides,
  };
}

function assertNoInjection(page: string): void {
  assert.equal(wellFormednessErrors(page), '');
  // The one script element is the page's own, loaded from /static/.
  assert.equal(count(page, '//script'), 1);
  assert.match(xpath(page, 'string(//script/@src)'), /\/static\/uws\.js\?v=[0-9a-f]{12}$/);
  assert.equal(count(page, '//img'), 0);
  assert.equal(count(page, '//@onmouseover | //@onerror'), 0);
  assert.ok(!page.includes('<script>alert'));
  // No inline style or script anywhere (a strict CSP must hold).
  assert.equal(count(page, '//style | //@style'), 0);
  assert.equal(count(page, '//script[normalize-space(.) != ""]'), 0);
}

/** Every visible form control has a label that points at it, and ids are unique. */
function assertLabelled(page: string): void {
  const ids = xpath(page, '//*[@id]/@id')
    .split(/\s+/)
    .filter(Boolean)
    .map((a) => a.replace(/^id="|"$/g, ''));
  assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids.join(' ')}`);
  const unlabelled = count(
    page,
    '//*[(self::input and not(@type="hidden")) or self::select or self::textarea][not(@id = //label/@for)]',
  );
  assert.equal(unlabelled, 0);
}

describe('html template', () => {
  it('escapes interpolated text, keeps nested templates, joins lists, drops null and false', () => {
    const out = html`<p title="${`"'<>&`}">${HOSTILE}${html`<b>${'&'}</b>`}${['<', html`<i></i>`]}${null}${false}${undefined}${0}</p>`;
    assert.equal(
      out.text,
      `<p title="&quot;&#39;&lt;&gt;&amp;">${escapeHtml(HOSTILE)}<b>&amp;</b>&lt;<i></i>0</p>`,
    );
    assert.ok(!escapeHtml(HOSTILE).includes('<'));
  });

  it('replaces characters no document may hold', () => {
    assert.equal(escapeHtml('a\u0000b\uD800c\u0007'), 'a\uFFFDb\uFFFDc\uFFFD');
    assert.equal(escapeHtml('astral \u{1F600} ok'), 'astral \u{1F600} ok');
  });
});

describe('job page', () => {
  it('is well-formed and shows hostile values as text only', () => {
    const page = renderJobPage({
      job: job(),
      jobType: demo,
      rootUrl: ROOT,
      listUrl: LIST,
      jobUrl: `${LIST}/AbC_123-xyz`,
    });
    assertNoInjection(page);
    assertLabelled(page);
    assert.equal(xpath(page, 'string(//h1)').includes(HOSTILE), true);
    assert.equal(xpath(page, 'string(//*[@data-field="errorMessage"])'), HOSTILE);
  });

  it('carries what the live update needs and links the standard resources', () => {
    const jobUrl = `${LIST}/AbC_123-xyz`;
    const page = renderJobPage({
      job: job({ phase: 'EXECUTING', errorSummary: null }),
      jobType: demo,
      rootUrl: ROOT,
      listUrl: LIST,
      jobUrl,
    });
    assert.equal(xpath(page, 'string(//main/@data-job-url)'), jobUrl);
    assert.equal(xpath(page, 'string(//main/@data-phase)'), 'EXECUTING');
    const phase = '//*[@id="phase"]';
    assert.equal(xpath(page, `string(${phase}/@aria-live)`), 'polite');
    assert.equal(xpath(page, `string(${phase})`), 'EXECUTING');
    // Run is hidden (not runnable while EXECUTING), abort is offered, the error section is hidden.
    assert.equal(count(page, `//form[@action="${jobUrl}/phase"][input[@value="RUN"]][@hidden]`), 1);
    assert.equal(count(page, `//form[@action="${jobUrl}/phase"][input[@value="ABORT"]][not(@hidden)]`), 1);
    assert.equal(
      count(page, `//form[@action="${jobUrl}"][@method="post"]/input[@name="ACTION"][@value="DELETE"]`),
      1,
    );
    assert.equal(
      count(
        page,
        `//form[@action="${jobUrl}/destruction"]/input[@name="DESTRUCTION"][@value="2026-02-07T12:00:00.000Z"]`,
      ),
      1,
    );
    assert.equal(count(page, '//section[@class="error"][@hidden]'), 1);
    // Results: link to {job}/results/{id} with the size; file parameter by reference; long value cut and linked.
    assert.equal(count(page, `//ul[@id="results"]/li/a[@href="${jobUrl}/results/res%3C%22'%3E"]`), 1);
    assert.match(xpath(page, 'string(//ul[@id="results"]/li)'), /4\.3 kB \(4,321 bytes\)/);
    assert.equal(count(page, `//a[@href="${jobUrl}/parameters/DATA"]`), 1);
    assert.equal(count(page, `//a[@href="${jobUrl}/parameters/TAG?index=1"]`), 1);
    assert.match(xpath(page, 'string(//dl)'), /2026-01-31T12:00:01\.000Z/);
  });

  it('links the error text and offers no run or abort once the job failed', () => {
    const jobUrl = `${LIST}/AbC_123-xyz`;
    const page = renderJobPage({ job: job(), jobType: demo, rootUrl: ROOT, listUrl: LIST, jobUrl });
    assert.equal(count(page, `//section[@class="error"][not(@hidden)]//a[@href="${jobUrl}/error"]`), 1);
    assert.equal(count(page, '//form[input[@name="PHASE"]][not(@hidden)]'), 0);
  });
});

describe('create form', () => {
  it('is multipart when files are declared, with the UPLOAD=name,param:part convention', () => {
    const page = html`<div>${renderCreateForm(demo, LIST)}</div>`.text;
    assert.equal(wellFormednessErrors(page), '');
    assertLabelled(page);
    assert.equal(count(page, `//form[@method="post"][@action="${LIST}"][@enctype="multipart/form-data"]`), 1);
    assert.equal(count(page, '//input[@type="file"][@name="DATA"]'), 1);
    const part = xpath(page, 'string(//input[@type="file"][@data-upload]/@name)');
    assert.equal(
      xpath(page, 'string(//input[@type="hidden"][@name="UPLOAD"]/@value)'),
      `table1,param:${part}`,
    );
    assert.equal(count(page, '//input[@type="file"][@data-upload][@required]'), 1);
    // One control per declaration, of the right kind, with its constraints.
    assert.equal(count(page, '//input[@type="number"][@name="N"][@step="1"][@min="0"][@max="100"]'), 1);
    assert.equal(
      count(page, '//input[@name="N"][@required]'),
      0,
      'a default makes a required parameter optional',
    );
    assert.equal(count(page, '//select[@name="MODE"][@required]/option'), 2);
    assert.equal(xpath(page, 'string(//select[@name="MODE"]/option[2]/@value)'), 's"low<');
    assert.equal(count(page, '//select[@name="FLAG"]/option'), 3);
    assert.equal(count(page, '//input[@type="text"][@name="QUERY"][@maxlength="100"]'), 1);
    assert.equal(count(page, '//input[@name="TAG"]'), 3);
    assert.equal(count(page, '//input[@type="checkbox"][@name="PHASE"][@value="RUN"]'), 1);
    assert.equal(count(page, '//input[@name="RUNID"]'), 1);
    // Each control is described by its hint, which holds the (escaped) description.
    assert.match(xpath(page, 'string(//*[@id=//input[@name="QUERY"]/@aria-describedby])'), /<script>/);
  });

  it('is urlencoded without files', () => {
    const page = html`<div>${renderCreateForm(plain, `${ROOT}/plain/async`)}</div>`.text;
    assert.equal(count(page, '//form[@enctype]'), 0);
    assert.equal(count(page, '//form[@method="post"]'), 1);
  });
});

describe('job list page', () => {
  const summaries: JobSummary[] = Array.from({ length: 3 }, (_, i) => ({
    jobId: `job${i}`,
    jobType: 'demo',
    runId: i === 0 ? HOSTILE : null,
    ownerId: null,
    phase: PHASES[i]!,
    creationTime: Date.UTC(2026, 0, 31) - i * 1000,
  }));

  it('lists jobs with links, ticks the filtered phases, and links older jobs with a keyset cursor', () => {
    const query = parseJobListQuery([
      { name: 'PHASE', value: 'queued' },
      { name: 'phase', value: 'PENDING' },
    ]);
    const page = renderJobListPage({
      jobType: demo,
      rootUrl: ROOT,
      listUrl: LIST,
      query,
      jobs: summaries,
      more: true,
    });
    assertNoInjection(page);
    assertLabelled(page);
    assert.equal(count(page, '//tbody/tr'), 3);
    assert.equal(count(page, `//tbody/tr/td/a[@href="${LIST}/job1"]`), 1);
    assert.equal(count(page, '//fieldset//input[@type="checkbox"][@name="PHASE"]'), PHASES.length);
    assert.equal(xpath(page, 'string(//fieldset/legend)').length > 0, true);
    const checked = xpath(page, '//input[@name="PHASE"][@checked]/@value');
    assert.match(checked, /QUEUED/);
    assert.match(checked, /PENDING/);
    assert.doesNotMatch(checked, /EXECUTING/);
    const older = new URL(xpath(page, 'string(//a[@rel="next"]/@href)'));
    assert.deepEqual(older.searchParams.getAll('PHASE'), ['QUEUED', 'PENDING']);
    const cursor = older.searchParams.get('BEFORE')!;
    assert.deepEqual(parseJobListQuery([{ name: 'BEFORE', value: cursor }]).before, {
      creationTime: summaries[2]!.creationTime,
      jobId: 'job2',
    });
    // The page also creates jobs.
    assert.equal(count(page, `//form[@method="post"][@action="${LIST}"]`), 1);
  });

  it('says so when empty and offers no older page', () => {
    const page = renderJobListPage({
      jobType: plain,
      rootUrl: ROOT,
      listUrl: LIST,
      query: parseJobListQuery([]),
      jobs: [],
      more: false,
    });
    assert.equal(wellFormednessErrors(page), '');
    assert.equal(count(page, '//table'), 0);
    assert.equal(count(page, '//a[@rel="next"]'), 0);
    assert.match(xpath(page, 'string(//main)'), /No jobs yet/);
  });

  it('refuses bad filter values with a message naming the parameter', () => {
    assert.throws(() => parseJobListQuery([{ name: 'PHASE', value: 'DONE' }]), /PHASE=DONE/);
    assert.throws(() => parseJobListQuery([{ name: 'LAST', value: '0' }]), /LAST/);
    assert.throws(() => parseJobListQuery([{ name: 'BEFORE', value: 'yesterday' }]), /BEFORE/);
    assert.throws(
      () => parseJobListQuery([{ name: 'BEFORE', value: '2026-01-01T00:00:00Z,../x' }]),
      /BEFORE/,
    );
    assert.equal(PAGE_SIZE > 0, true);
  });
});

describe('service page', () => {
  it('lists each job type with its parameters and a link to its jobs', () => {
    const page = renderServicePage({ jobTypes: [demo, plain], rootUrl: ROOT });
    assertNoInjection(page);
    assert.equal(count(page, '//h1'), 1);
    assert.equal(count(page, '//h2'), 2);
    assert.equal(count(page, `//a[@href="${ROOT}/demo/async"]`), 2);
    assert.equal(count(page, `//a[@href="${ROOT}/plain/capabilities"]`), 1);
    assert.equal(count(page, '//section[1]//tbody/tr'), demo.schema.declarations.length);
    assert.match(xpath(page, 'string(//section[1]/p[1])'), /<script>/);
  });
});

describe('static files and formats', () => {
  it('the script is valid JavaScript and the files are versioned by content', () => {
    assert.doesNotThrow(() => new vm.Script(UWS_JS, { filename: 'uws.js' }));
    assert.match(STATIC_FILES['uws.js']!.type, /^text\/javascript/);
    assert.match(STATIC_FILES['uws.css']!.type, /^text\/css/);
    assert.notEqual(STATIC_FILES['uws.js']!.version, STATIC_FILES['uws.css']!.version);
  });

  it('formats sizes and durations for people', () => {
    assert.equal(formatSize(0), '0 bytes');
    assert.equal(formatSize(1), '1 byte');
    assert.equal(formatSize(999), '999 bytes');
    assert.equal(formatSize(1234), '1.2 kB (1,234 bytes)');
    assert.equal(formatSize(12_345_678), '12 MB (12,345,678 bytes)');
    assert.equal(formatSize(null), 'size unknown');
    assert.equal(formatDuration(0), 'unlimited');
    assert.equal(formatDuration(3725), '1 h 2 min 5 s (3725 s)');
  });
});
