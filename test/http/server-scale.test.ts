import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { get, startHarness } from './harness.js';

const JOBS = 6000;

describe('a long job list (JL-GET-3)', () => {
  it('JL-GET-3: 6,000 jobs are streamed in chunks, and other requests are answered while the list is sent', async () => {
    const h = await startHarness();
    try {
      const t0 = Date.UTC(2026, 0, 1);
      for (let i = 0; i < JOBS; i++) {
        await h.store.create({
          jobId: `job${String(i).padStart(6, '0')}`,
          jobType: 'demo',
          runId: null,
          ownerId: null,
          phase: 'PENDING',
          quote: null,
          creationTime: t0 + i,
          executionDuration: 600,
          destruction: null,
          parameters: [],
          jobInfo: null,
        });
      }
      // Read the list slowly, as a slow client would, and ask for a job in between.
      const { headers, chunks, interleaved } = await new Promise<{
        headers: http.IncomingHttpHeaders;
        chunks: number;
        interleaved: number;
      }>((resolve, reject) => {
        http
          .get(h.url('/demo/async'), (res) => {
            let chunks = 0;
            let interleaved = 0;
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              chunks++;
              text += chunk;
              if (chunks === 2) {
                res.pause();
                get(h.url('/demo/async/job000001/phase'))
                  .then(async (r) => {
                    assert.equal(await r.text(), 'PENDING');
                    interleaved++;
                    res.resume();
                  })
                  .catch(reject);
              }
            });
            res.on('end', () => {
              assert.equal(text.match(/<uws:jobref /g)?.length, JOBS);
              assert.ok(text.indexOf('job019999') < text.indexOf('job000000'), 'newest first');
              assert.ok(text.endsWith('</uws:jobs>\n'));
              resolve({ headers: res.headers, chunks, interleaved });
            });
            res.on('error', reject);
          })
          .on('error', reject);
      });
      assert.equal(headers['transfer-encoding'], 'chunked');
      assert.equal(headers['content-length'], undefined);
      assert.ok(chunks > 10, `${chunks} chunks`);
      assert.equal(interleaved, 1);
    } finally {
      await h.close();
    }
  });
});
