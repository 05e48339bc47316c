import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import {
  type AuthWorld,
  authWorld,
  basic,
  bearer,
  type Credentials,
  type Server,
  serve,
} from './fixtures.js';

/** Every way of reading or changing one job: none may succeed for another owner (HTTP-12, JOB-GET-4). */
const READS = [
  '',
  '/phase',
  '/parameters',
  '/results',
  '/owner',
  '/executionduration',
  '/destruction',
  '/quote',
  '/error',
  '/parameters/DURATION',
  '?WAIT=1',
];
const CHANGES: [string, Record<string, string>][] = [
  ['/phase', { PHASE: 'RUN' }],
  ['/phase', { PHASE: 'ABORT' }],
  ['/parameters', { DURATION: '2' }],
  ['/destruction', { DESTRUCTION: '2030-01-01T00:00:00Z' }],
  ['/executionduration', { EXECUTIONDURATION: '10' }],
  ['', { ACTION: 'DELETE' }],
];

async function request(url: string, headers: Credentials, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, {
    redirect: 'manual',
    ...init,
    headers: { ...headers, ...(init.headers as object) },
  });
  await res.arrayBuffer();
  return res;
}

async function listIds(server: Server, headers: Credentials): Promise<string[]> {
  const res = await fetch(`${server.url}/sleep/async`, { headers });
  assert.equal(res.status, 200);
  return [...(await res.text()).matchAll(/<uws:jobref id="([^"]+)"/g)].map((m) => m[1]!);
}

async function createJob(server: Server, headers: Credentials): Promise<{ id: string; url: string }> {
  const res = await request(`${server.url}/sleep/async`, headers, {
    method: 'POST',
    body: new URLSearchParams({ DURATION: '1', RUNID: 'mine' }),
  });
  assert.equal(res.status, 303);
  const url = res.headers.get('location')!;
  return { id: url.split('/').pop()!, url };
}

/**
 * Owner A's job is out of B's and the anonymous caller's reach on every
 * resource and with every method, unchanged afterwards; A and the admin see it.
 */
async function assertIsolation(
  server: Server,
  a: Credentials,
  b: Credentials,
  owner: string,
  admin?: Credentials,
  /** 401 where anonymous access is refused altogether. */
  anonymousStatus = 403,
): Promise<void> {
  const { id, url } = await createJob(server, a);
  const ownerText = await fetch(`${url}/owner`, { headers: a });
  assert.equal(ownerText.status, 200);
  assert.equal(await ownerText.text(), owner, 'ownerId is the authenticated identity (HTTP-13)');
  const before = await server.uws.store.get(id);
  for (const [who, status] of [
    [b, 403],
    [{}, anonymousStatus],
  ] as const) {
    for (const path of READS) {
      const res = await request(`${url}${path}`, who);
      assert.equal(
        res.status,
        status,
        `GET ${path || 'job'} by another caller: ${res.headers.get('www-authenticate')}`,
      );
    }
    for (const [path, body] of CHANGES) {
      const res = await request(`${url}${path}`, who, { method: 'POST', body: new URLSearchParams(body) });
      assert.equal(res.status, status, `POST ${path || 'job'} ${JSON.stringify(body)} by another caller`);
    }
    assert.equal((await request(url, who, { method: 'DELETE' })).status, status);
    if (status === 403) assert.ok(!(await listIds(server, who)).includes(id), 'not in another caller’s list');
    else assert.equal((await request(`${server.url}/sleep/async`, who)).status, 401);
  }
  assert.deepEqual(await server.uws.store.get(id), before, 'nothing changed');
  assert.ok((await listIds(server, a)).includes(id), 'in the owner’s list');
  if (admin) {
    assert.ok((await listIds(server, admin)).includes(id), 'in the admin’s list');
    assert.equal((await request(url, admin)).status, 200);
  }
  assert.equal((await request(url, a, { method: 'DELETE' })).status, 303);
  assert.equal(await server.uws.store.get(id), null);
}

describe('owner A cannot read, list, change or delete owner B’s job', () => {
  let tmp: ReturnType<typeof tempDir>;
  let world: AuthWorld;
  let server: Server;
  let jwks: Server;

  before(async () => {
    tmp = tempDir('auth');
    world = await authWorld(tmp.dir);
    server = await serve(tmp.dir, { auth: world.auth });
    const jwksDir = tempDir('auth-jwks');
    jwks = await serve(jwksDir.dir, {
      auth: {
        strategies: ['bearer'],
        bearer: { jwt: { jwksFile: `${tmp.dir}/jwks.json`, algorithms: ['ES256'] } },
        allowAnonymous: false,
      },
    });
  });
  after(async () => {
    await server?.stop();
    await jwks?.stop();
    tmp?.cleanup();
  });

  it('HTTP Basic with bcrypt hashes', async () => {
    await assertIsolation(server, basic('alice'), basic('bob'), 'alice', basic('root'));
  });
  it('HTTP Basic with argon2 hashes', async () => {
    await assertIsolation(server, basic('carol'), basic('dave'), 'carol', basic('root'));
  });
  it('HTTP Basic with a non-ASCII user name', async () => {
    await assertIsolation(server, basic('ünïcode user'), basic('alice'), 'ünïcode user');
  });
  it('bearer tokens from the tokens file', async () => {
    await assertIsolation(
      server,
      bearer('tok-alice-0123456789abcdef'),
      bearer('tok-bob-0123456789abcdef'),
      'alice',
      basic('root'),
    );
  });
  it('JWT (HS256, issuer and audience checked)', async () => {
    await assertIsolation(
      server,
      bearer(await world.signHs('erin')),
      bearer(await world.signHs('frank')),
      'erin',
      bearer(await world.signHs('root')),
    );
  });
  it('JWT (ES256 from a JWKS file)', async () => {
    await assertIsolation(
      jwks,
      bearer(await world.signEs('gina')),
      bearer(await world.signEs('hank')),
      'gina',
      undefined,
      401,
    );
  });
  it('trusted proxy header', async () => {
    await assertIsolation(server, { 'x-remote-user': 'ivan' }, { 'x-remote-user': 'judy' }, 'ivan', {
      'x-remote-user': 'root',
    });
  });
  it('one owner under two strategies is one owner', async () => {
    const { url } = await createJob(server, basic('alice'));
    assert.equal((await request(url, bearer('tok-alice-0123456789abcdef'))).status, 200);
    assert.equal((await request(url, { 'x-remote-user': 'alice' })).status, 200);
    assert.equal((await request(url, bearer(await world.signHs('alice')))).status, 200);
    assert.equal((await request(url, basic('bob'))).status, 403);
  });
});
