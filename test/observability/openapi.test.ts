import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { compileJobType } from '../../src/exec/job-type.js';
import { openApiDocument } from '../../src/observability/openapi.js';
import { tempDir } from '../helpers/tmp.js';

type Json = Record<string, unknown>;
const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;

/** The UWS 1.1 resources of one job list (sec. 2.2), plus the sync facade and VOSI. */
function uwsPaths(type: string): string[] {
  const job = `/${type}/async/{jobId}`;
  return [
    `/${type}/async`,
    job,
    ...['phase', 'executionduration', 'destruction', 'quote', 'owner', 'error', 'results', 'parameters'].map(
      (r) => `${job}/${r}`,
    ),
    `${job}/results/{resultId}`,
    `${job}/parameters/{name}`,
    `/${type}/sync`,
    `/${type}/sync/{jobId}`,
    `/${type}/capabilities`,
    `/${type}/availability`,
  ];
}

/** Every `$ref` in the document points at something that exists. */
function unresolvedRefs(doc: Json): string[] {
  const bad: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        let target: unknown = doc;
        for (const part of v.replace(/^#\//, '').split('/')) target = (target as Json | undefined)?.[part];
        if (target === undefined) bad.push(v);
      } else visit(v);
    }
  };
  visit(doc);
  return bad;
}

function resolve(doc: Json, node: unknown): Json {
  const r = (node as Json)['$ref'];
  if (typeof r !== 'string') return node as Json;
  let target: unknown = doc;
  for (const part of r.replace(/^#\//, '').split('/')) target = (target as Json)[part];
  return target as Json;
}

describe('/openapi.json', () => {
  const tmp = tempDir('openapi');
  let server: Awaited<ReturnType<typeof startServer>>;
  let doc: Json;

  before(async () => {
    server = await startServer(
      validateConfig({
        server: { port: 0 },
        store: { url: `sqlite:${path.join(tmp.dir, 'jobs.db')}` },
        workDir: path.join(tmp.dir, 'jobs'),
        log: { level: 'silent' },
      }),
    );
    const r = await fetch(`${server.url}/openapi.json`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    doc = JSON.parse(await r.text()) as Json;
  });
  after(async () => {
    await server.stop();
    tmp.cleanup();
  });

  it('is OpenAPI 3.1 with every UWS path of every job type', () => {
    assert.equal(doc['openapi'], '3.1.0');
    assert.equal(typeof (doc['info'] as Json)['title'], 'string');
    const paths = doc['paths'] as Record<string, Json>;
    const types = server.uws.service.jobTypes.all().map((t) => t.name);
    for (const builtin of ['catalogue', 'checksum', 'factor', 'sleep']) assert.ok(types.includes(builtin));
    for (const type of types) {
      for (const p of uwsPaths(type)) assert.ok(paths[p], `missing ${p}`);
    }
    assert.ok(paths['/']);
    assert.deepEqual(unresolvedRefs(doc), []);
  });

  it('describes only what the server routes, with every path parameter declared', () => {
    const paths = doc['paths'] as Record<string, Json>;
    let operations = 0;
    for (const [p, item] of Object.entries(paths)) {
      const templated = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const method of METHODS) {
        const op = item[method] as Json | undefined;
        if (!op) continue;
        operations++;
        const url = p.replace(/\{(\w+)\}/g, ':$1');
        assert.ok(
          server.http.hasRoute({ method: method.toUpperCase() as 'GET', url }),
          `${method} ${p} is not routed`,
        );
        assert.ok(Object.keys(op['responses'] as Json).length > 0, `${method} ${p} has no responses`);
        const declared = [...((item['parameters'] as Json[]) ?? []), ...((op['parameters'] as Json[]) ?? [])]
          .map((x) => resolve(doc, x))
          .filter((x) => x['in'] === 'path')
          .map((x) => x['name']);
        assert.deepEqual(declared.sort(), [...templated].sort(), `${method} ${p} path parameters`);
      }
    }
    assert.ok(operations >= 20 * server.uws.service.jobTypes.all().length, `only ${operations} operations`);
  });

  it("takes each job type's declared parameters as the creation form's fields", () => {
    const post = (doc['paths'] as Record<string, Json>)['/checksum/async']!['post'] as Json;
    const content = (post['requestBody'] as Json)['content'] as Record<string, Json>;
    for (const media of ['application/x-www-form-urlencoded', 'multipart/form-data']) {
      const properties = (content[media]!['schema'] as Json)['properties'] as Record<string, Json>;
      assert.deepEqual(Object.keys(properties).sort(), [
        'ALGORITHM',
        'DESTRUCTION',
        'EXECUTIONDURATION',
        'PHASE',
        'RUNID',
        'UPLOAD',
      ]);
      assert.deepEqual(properties['ALGORITHM']!['enum'], ['sha256', 'sha1', 'md5']);
      assert.equal(properties['UPLOAD']!['type'], 'array');
    }
  });
});

describe('openApiDocument', () => {
  it('follows the declarations and the base path', () => {
    const type = compileJobType({
      name: 'q',
      parameters: [
        { name: 'N', type: 'integer', min: 1, max: 9, default: '3' },
        { name: 'WHEN', type: 'date' },
        { name: 'TAG', type: 'string', multiple: true },
      ],
      executor: { kind: 'in-process', execute: async () => ({ status: 'completed' }) },
    });
    const doc = openApiDocument([type], { basePath: '/uws/', serverUrl: 'https://example.org' });
    const paths = doc['paths'] as Record<string, Json>;
    assert.ok(paths['/uws']);
    assert.ok(paths['/uws/q/async/{jobId}/phase']);
    assert.deepEqual(doc['servers'], [{ url: 'https://example.org' }]);
    const body = ((paths['/uws/q/async/{jobId}/parameters']!['post'] as Json)['requestBody'] as Json)[
      'content'
    ] as Record<string, Json>;
    const props = (body['application/x-www-form-urlencoded']!['schema'] as Json)['properties'] as Record<
      string,
      Json
    >;
    assert.deepEqual(props['N'], { description: '', default: '3', type: 'integer', minimum: 1, maximum: 9 });
    assert.equal(props['WHEN']!['format'], 'date-time');
    assert.equal(props['TAG']!['type'], 'array');
    // Parameters are changed, not created, there: no control parameters.
    assert.equal(props['PHASE'], undefined);
  });
});
