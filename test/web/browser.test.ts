import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { startServer } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

/*
 * The web pages end to end, as a person uses them: Debian's chromium (headless)
 * against a real server with a SQLite file. .ci/run installs chromium; outside
 * CI the test is skipped, saying why, when there is none.
 */

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');

describe('web pages in a browser', {
  skip: !haveChromium && !process.env.CI ? `no ${CHROMIUM}` : false,
}, () => {
  const tmp = tempDir('browser');
  let server: Awaited<ReturnType<typeof startServer>>;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    server = await startServer(
      validateConfig({
        server: { port: 0 },
        store: { url: `sqlite:${path.join(tmp.dir, 'jobs.db')}` },
        workDir: path.join(tmp.dir, 'jobs'),
        log: { level: 'silent' },
      }),
    );
    context = await chromium.launchPersistentContext(path.join(tmp.dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1100, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // A CSP violation or a script error shows up here; none is expected.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    page.on('dialog', (d) => void d.accept());
  });

  after(async () => {
    await context?.close();
    await server?.stop();
    tmp.cleanup();
  });

  it('creates a job from the form, watches it finish without a reload, downloads its result, deletes it', async () => {
    const base = server.url;
    const listUrl = `${base}/catalogue/async`;
    // From the service page to the job type's list.
    await page.goto(`${base}/`);
    assert.equal(await page.locator('h1').textContent(), 'UWS job types');
    const listed = await Promise.all([
      page.waitForResponse(listUrl),
      page.getByRole('link', { name: 'catalogue jobs and the form to create one' }).click(),
    ]).then(([response]) => response);
    assert.match(listed.headers()['content-type'] ?? '', /^text\/html/);
    assert.match(listed.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    assert.equal(await page.locator('h1').textContent(), 'catalogue jobs');
    assert.equal(await page.getByRole('checkbox', { name: 'EXECUTING' }).count(), 1);

    // The create form, generated from the declarations: ROWS and SEED, by their labels.
    await page.getByLabel('ROWS').fill('20000');
    await page.getByLabel('SEED').fill('42');
    await page.getByLabel('RUNID').fill('browser <test> & co');
    // Created PENDING, so that the page is open before the job moves.
    await page.getByLabel('Start the job at once').uncheck();
    await Promise.all([
      page.waitForURL(/\/catalogue\/async\/[A-Za-z0-9_-]+$/),
      page.getByRole('button', { name: 'Create job' }).click(),
    ]);
    const jobUrl = page.url();
    const phase = page.locator('#phase');
    assert.equal(await phase.textContent(), 'PENDING');
    assert.equal(await phase.getAttribute('aria-live'), 'polite');
    assert.match((await page.locator('h1').textContent()) ?? '', /browser <test> & co/);
    assert.ok(await page.getByRole('button', { name: 'Run' }).isVisible());

    // Record every phase shown, and mark this document: a reload would lose the mark.
    // (Browser-side code as strings: this project's TypeScript has no DOM types.)
    await page.evaluate(`(() => {
      window.sameDocument = true;
      window.seen = [];
      const el = document.getElementById('phase');
      new MutationObserver(() => window.seen.push(el.textContent)).observe(el, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    })()`);
    // Someone else starts it (as a script would); the page's WAIT loop sees the change.
    const run = await fetch(`${jobUrl}/phase`, {
      method: 'POST',
      body: new URLSearchParams({ PHASE: 'RUN' }),
      redirect: 'manual',
    });
    assert.equal(run.status, 303);
    await page.locator('#phase', { hasText: /^COMPLETED$/ }).waitFor({ timeout: 60_000 });
    const state = (await page.evaluate('({ seen: window.seen, sameDocument: window.sameDocument })')) as {
      seen: string[];
      sameDocument: boolean;
    };
    assert.equal(state.sameDocument, true, 'the page was not reloaded');
    assert.match(await page.title(), /: COMPLETED$/);
    assert.equal(state.seen[state.seen.length - 1], 'COMPLETED');
    assert.ok(!state.seen.includes('PENDING'), `phases shown: ${state.seen.join(' ')}`);
    // What applies changed with the phase: no Run or Abort now, results listed with their size.
    assert.equal(await page.getByRole('button', { name: 'Run' }).isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Abort' }).isVisible(), false);
    assert.notEqual(await page.locator('[data-field="endTime"]').textContent(), '—');
    const link = page.locator('#results a', { hasText: 'result' });
    const href = await link.getAttribute('href');
    assert.equal(href, `${jobUrl}/results/result`);
    const sizeText = (await page.locator('#results li').first().textContent()) ?? '';

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'job-page.png'), fullPage: true });

    // Download the result as the browser (its own request context).
    const download = await context.request.get(href!);
    assert.equal(download.status(), 200);
    const body = await download.body();
    assert.match(body.toString('utf8'), /<VOTABLE[\s\S]*<TR>/);
    assert.ok(
      sizeText.includes(`${body.length.toLocaleString('en-US')} bytes`),
      `${sizeText} vs ${body.length}`,
    );

    // Change destruction: the 303 brings the browser back to the job page with the new time.
    await page.getByLabel('Destruction time (UTC)').fill('2099-01-01T00:00:00Z');
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: 'Change destruction' }).click(),
    ]);
    await page.waitForURL(jobUrl);
    const destruction = await page.locator('[data-field="destruction"]').getAttribute('datetime');
    assert.ok(
      destruction && destruction < '2099-01-01',
      `destruction clamped to the lifetime limit: ${destruction}`,
    );

    // Delete (after the confirmation dialog): back on the list, and the job is gone.
    await Promise.all([page.waitForURL(listUrl), page.getByRole('button', { name: 'Delete' }).click()]);
    assert.equal(await page.locator(`a[href="${jobUrl}"]`).count(), 0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'job-list.png'), fullPage: true });
    assert.equal((await fetch(jobUrl)).status, 404);
    assert.deepEqual(problems, []);
  });

  it('uploads a file through the UPLOAD=name,param:part form and runs the job from the Run button', async () => {
    await page.goto(`${server.url}/checksum/async`);
    const file = path.join(tmp.dir, 'table.xml');
    fs.writeFileSync(file, '<VOTABLE/>\n');
    await page.getByLabel('UPLOAD').setInputFiles(file);
    await page.getByLabel('Table name').fill('mytable');
    await page.getByLabel('Start the job at once').uncheck();
    await Promise.all([
      page.waitForURL(/\/checksum\/async\/[A-Za-z0-9_-]+$/),
      page.getByRole('button', { name: 'Create job' }).click(),
    ]);
    assert.equal(await page.locator('#phase').textContent(), 'PENDING');
    assert.match((await page.locator('table').textContent()) ?? '', /UPLOAD/);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Run' }).click()]);
    await page.locator('#phase', { hasText: /^COMPLETED$/ }).waitFor({ timeout: 30_000 });
    const result = await context.request.get(`${page.url()}/results/result`);
    const text = await result.text();
    assert.match(text, /mytable/);
    assert.match(text, /<TD>11<\/TD>/);
    assert.deepEqual(problems, []);
  });

  it('aborts a running job from its page', async () => {
    await page.goto(`${server.url}/sleep/async`);
    await page.getByLabel('DURATION').fill('120');
    await Promise.all([
      page.waitForURL(/\/sleep\/async\/[A-Za-z0-9_-]+$/),
      page.getByRole('button', { name: 'Create job' }).click(),
    ]);
    await page.locator('#phase', { hasText: /^EXECUTING$/ }).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByRole('button', { name: 'Abort' }).isVisible(), true);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Abort' }).click()]);
    await page.locator('#phase', { hasText: /^ABORTED$/ }).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByRole('heading', { name: 'Error' }).isVisible(), true);
    assert.match((await page.locator('[data-field="errorMessage"]').textContent()) ?? '', /aborted/);
    assert.deepEqual(problems, []);
  });
});
