import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { basic, bearer } from '../auth/fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { uwsSchemaErrors, wellFormedErrors } from '../http/xmllint.js';
import { type FuzzRequest, fuzzRequest } from './generators.js';
import { buildRequest, header, type RawResponse, rawRequest } from './raw-http.js';
import { CANARY, type FuzzWorld, fileSnapshot, fuzzWorld } from './world.js';

const MAX_XML_SAMPLES = 400;

const MUTATING = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

/** The path of a target as the router sees it (percent-escapes decoded where they decode). */
function decodedPath(target: Buffer): string {
  const raw = target.toString('latin1').split(/[?#]/)[0] ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export interface CampaignOptions {
  readonly runs: number;
  readonly seed: number;
  /**
   * Run the scheduler too: jobs the campaign starts really run (commands,
   * threads, results written). The store then changes on its own, so the
   * no-change check of refused requests is left out; the rest holds.
   */
  readonly runJobs: boolean;
}

/**
 * The hostile-input campaign (issue 6): random methods, targets, query
 * strings, headers, encodings and bodies at every endpoint of a real server,
 * one request at a time, each checked as it comes back.
 */
export function campaign({ runs: RUNS, seed: SEED, runJobs }: CampaignOptions): void {
  describe(`hostile input${runJobs ? ' with jobs running' : ''}: ${RUNS} requests, seed ${SEED}`, () => {
    let tmp: ReturnType<typeof tempDir>;
    let world: FuzzWorld;
    let jobs: [string, string][];
    const statuses = new Map<number, number>();
    const uwsDocs = new Map<string, string>();
    const otherXml = new Map<string, string>();
    let sent = 0;
    let restored = 0;

    before(async () => {
      tmp = tempDir('fuzz');
      world = await fuzzWorld(tmp.dir, runJobs);
      jobs = await Promise.all(
        Object.values(world.jobs).map(
          async (id): Promise<[string, string]> => [(await world.server.uws.store.get(id))!.jobType, id],
        ),
      );
    });
    after(async () => {
      await world?.close();
      tmp?.cleanup();
    });

    /** The exact bytes of a failing request go to a file, for replaying by hand. */
    function keep(r: FuzzRequest): string {
      const file = path.join(os.tmpdir(), `uws-fuzz-failure-${SEED}-${sent}.http`);
      fs.writeFileSync(file, buildRequest(r.method, r.target, r.headers, r.body));
      return file;
    }

    function describeRequest(r: FuzzRequest): string {
      const text = buildRequest(r.method, r.target, r.headers, r.body.subarray(0, 400)).toString('latin1');
      return JSON.stringify(text.length > 1500 ? `${text.slice(0, 1500)}...` : text);
    }

    /** The checks every answer must pass. */
    function checkAnswer(r: FuzzRequest, res: RawResponse): void {
      const what = () =>
        `${JSON.stringify(res.head)} ${JSON.stringify(res.body.subarray(0, 300).toString('utf8'))} for ${describeRequest(r)}`;
      if (res.status >= 500) assert.fail(`5xx: ${what()} (all of it in ${keep(r)})`);
      assert.ok(!res.body.includes(CANARY), `the secret outside the job directories leaked: ${what()}`);
      // Every answer, those of Node's HTTP parser to malformed requests included.
      assert.equal(header(res, 'x-content-type-options'), 'nosniff', `no nosniff: ${what()}`);
      assert.equal(header(res, 'referrer-policy'), 'no-referrer', `no Referrer-Policy: ${what()}`);
      assert.match(header(res, 'content-security-policy') ?? '', /default-src 'none'/, `no CSP: ${what()}`);
      const type = header(res, 'content-type') ?? '';
      const text = res.body.toString('utf8');
      if (r.method === 'HEAD' || res.body.length === 0) return;
      if (/xml|html/.test(type)) {
        assert.ok(!text.includes('<x-fuzz'), `unescaped markup from the request in ${type}: ${what()}`);
      }
      if (/json/.test(type) && res.status < 300) {
        assert.doesNotThrow(() => JSON.parse(text), `JSON does not parse: ${what()}`);
      }
      if (/xml/.test(type) && res.status === 200) {
        const target =
          uwsDocs.size + otherXml.size < MAX_XML_SAMPLES ? (/<uws:/.test(text) ? uwsDocs : otherXml) : null;
        target?.set(`r${sent}`, text);
      }
    }

    /** The traps answer 404 and never the secret; the real result is there. */
    async function checkTraps(): Promise<void> {
      const { done, linked } = world.jobs;
      const paths = [
        `/checksum/async/${done}/results/evil`,
        `/checksum/async/${done}/parameters/t`,
        `/checksum/async/${done}/parameters/UPLOAD`,
        `/checksum/async/${done}/parameters/SECRET.txt`,
        `/checksum/async/${linked}/results/result`,
        `/checksum/async/${linked}/parameters/t`,
        `/checksum/async/${linked}/parameters/UPLOAD`,
      ];
      for (const p of paths) {
        for (const method of ['GET', 'HEAD']) {
          const res = await rawRequest(
            world.port,
            buildRequest(method, p, [['Host', Buffer.from('x')]], Buffer.alloc(0)),
          );
          assert.equal(res.status, 404, `${method} ${p}`);
          assert.ok(!res.body.includes(CANARY), `${method} ${p}`);
        }
      }
      const fine = await rawRequest(
        world.port,
        buildRequest(
          'GET',
          `/checksum/async/${done}/results/result`,
          [['Host', Buffer.from('x')]],
          Buffer.alloc(0),
        ),
      );
      assert.equal(fine.body.toString(), 'fine\n');
    }

    it('the traps: links to files and folders outside the job directories are never followed', checkTraps);

    it('no 5xx, no crash, no state change from refused requests, no file outside a job directory read or written, markup escaped, security headers', async () => {
      const auth = [
        basic('alice').authorization!,
        basic('bob').authorization!,
        basic('root').authorization!,
        bearer('tok-alice-0123456789abcdef').authorization!,
        bearer(await world.auth.signHs('bob')).authorization!,
        basic('alice', 'wrong').authorization!,
      ];
      const property = fc.asyncProperty(fuzzRequest(jobs, auth, world.port), async (r) => {
        // Requests may destroy the trap fixtures; they come back before the next one.
        restored += await world.restore();
        const changesBefore = world.changes();
        const filesBefore = fileSnapshot(tmp.dir);
        sent++;
        const res = await rawRequest(world.port, buildRequest(r.method, r.target, r.headers, r.body)).catch(
          (err: Error) => {
            // Node closes CONNECT requests of a server that does not tunnel, without an answer.
            if (r.method === 'CONNECT') return null;
            throw new Error(`no answer (${err.message}) to ${describeRequest(r)} (all of it in ${keep(r)})`);
          },
        );
        if (res === null) {
          if (!runJobs) assert.equal(world.changes(), changesBefore);
          return;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        checkAnswer(r, res);
        const routed = decodedPath(r.target);
        const startsSync = r.method === 'GET' && /^\/+\w+\/+sync\/*$/.test(routed);
        if (!runJobs && (res.status >= 400 || !(MUTATING.has(r.method) || startsSync))) {
          assert.equal(
            world.changes(),
            changesBefore,
            `a ${res.status} answer changed the store: ${describeRequest(r)}`,
          );
          assert.deepEqual(
            fileSnapshot(tmp.dir),
            filesBefore,
            `a ${res.status} answer changed files: ${describeRequest(r)}`,
          );
        } else {
          // Accepted changes stay inside the working directories.
          const outside = (list: string[]) => list.filter((f) => !f.startsWith('work/'));
          assert.deepEqual(
            outside(fileSnapshot(tmp.dir)),
            outside(filesBefore),
            `files outside work/ changed: ${describeRequest(r)}`,
          );
        }
      });
      try {
        await fc.assert(property, { numRuns: RUNS, seed: SEED, endOnFailure: true });
      } catch (err) {
        // The assertion's own message names the request; fast-check's wrapper would hide it.
        const cause = (err as { cause?: unknown }).cause;
        throw cause instanceof Error ? cause : err;
      }

      // The traps, put back where the campaign destroyed them, still hold.
      await world.restore();
      await checkTraps();
      // Still serving, and every XML document collected validates.
      const alive = await rawRequest(
        world.port,
        buildRequest('GET', '/', [['Host', Buffer.from('127.0.0.1')]], Buffer.alloc(0)),
      );
      assert.equal(alive.status, 200);
      assert.deepEqual(await uwsSchemaErrors(Object.fromEntries(uwsDocs)), []);
      for (const [name, text] of otherXml) assert.equal(await wellFormedErrors(text), '', name);
      const histogram = [...statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}:${n}`)
        .join(' ');
      const phases = Object.entries(await world.server.uws.store.countByPhase())
        .filter(([, n]) => n > 0)
        .map(([p, n]) => `${p}:${n}`)
        .join(' ');
      console.log(
        `fuzz: ${sent} requests, seed ${SEED}; statuses ${histogram}; XML validated ${uwsDocs.size} UWS + ${otherXml.size} other; jobs at the end ${phases}; trap fixtures restored ${restored} times`,
      );
      assert.ok(sent >= RUNS, 'every planned request was sent');
    });
  });
}
