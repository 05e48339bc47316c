import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { UnsecuredJWT } from 'jose';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { UnauthorizedError } from '../../src/auth/errors.js';
import { parsePasswordFile } from '../../src/auth/password-file.js';
import { addressIn, addressList } from '../../src/auth/proxy-header.js';
import { WatchedFile } from '../../src/auth/watched-file.js';
import { validateConfig } from '../../src/config/index.js';
import { tempDir } from '../helpers/tmp.js';
import { type AuthWorld, authWorld, basic, bearer, type Server, serve } from './fixtures.js';

async function status(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; challenge: string | null; text: string }> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), text: await res.text() };
}

describe('owner identification over HTTP', () => {
  let tmp: ReturnType<typeof tempDir>;
  let world: AuthWorld;
  let server: Server;

  before(async () => {
    tmp = tempDir('auth-strategies');
    world = await authWorld(tmp.dir);
    server = await serve(tmp.dir, { auth: world.auth });
  });
  after(async () => {
    await server?.stop();
    tmp?.cleanup();
  });

  it('wrong or malformed credentials are 401 with challenges, never anonymous access', async () => {
    const list = `${server.url}/sleep/async`;
    const cases: [string, Record<string, string>][] = [
      ['wrong password', basic('alice', 'nope')],
      ['unknown user', basic('mallory', 'x')],
      ['not base64', { authorization: 'Basic %%%' }],
      ['bad UTF-8', { authorization: `Basic ${Buffer.from([0x61, 0xff, 0x3a, 0x62]).toString('base64')}` }],
      ['no colon', { authorization: `Basic ${Buffer.from('alice').toString('base64')}` }],
      ['empty Basic', { authorization: 'Basic' }],
      ['unknown token', bearer('tok-nobody')],
      ['empty bearer', { authorization: 'Bearer ' }],
      ['expired JWT', bearer(await world.signHs('alice', {}, '-1h'))],
      ['JWT of an unknown key', bearer(await world.signForeign('alice'))],
      ['unsigned JWT (alg none)', bearer(new UnsecuredJWT({ sub: 'alice' }).encode())],
      ['JWT for another audience', bearer(await world.signHs('alice', { aud: 'other' }))],
      ['proxy header with a control character', { 'x-remote-user': 'a\tb' }],
    ];
    for (const [what, headers] of cases) {
      const res = await status(list, headers);
      assert.equal(res.status, 401, `${what}: ${res.text}`);
      assert.match(res.challenge ?? '', /Basic realm="ivoa-uws"/, what);
      assert.match(res.challenge ?? '', /Bearer realm="ivoa-uws"/, what);
      assert.match(res.text, /authentication failed/, what);
    }
    const expired = await status(list, bearer(await world.signHs('alice', {}, '-1h')));
    assert.match(
      expired.challenge!,
      /error="invalid_token", error_description="the token is not valid: it has expired"/,
    );
  });

  it('an unknown Authorization scheme or none at all is the anonymous owner (allowAnonymous)', async () => {
    for (const headers of [{}, { authorization: 'Negotiate abc' }] as Record<string, string>[]) {
      const res = await fetch(`${server.url}/sleep/async`, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ DURATION: '1' }),
        redirect: 'manual',
      });
      assert.equal(res.status, 303);
      const owner = await fetch(`${res.headers.get('location')}/owner`);
      assert.equal(await owner.text(), '');
    }
  });

  it('anonymous jobs: reachable by id by anyone, listed only to anonymous callers and admins', async () => {
    const res = await fetch(`${server.url}/sleep/async`, {
      method: 'POST',
      body: new URLSearchParams({ DURATION: '1' }),
      redirect: 'manual',
    });
    const url = res.headers.get('location')!;
    const id = url.split('/').pop()!;
    const listed = async (headers: Record<string, string>) =>
      (await (await fetch(`${server.url}/sleep/async`, { headers })).text()).includes(`id="${id}"`);
    assert.equal(await listed({}), true);
    assert.equal(await listed(basic('alice')), false);
    assert.equal(await listed(basic('root')), true);
    assert.equal((await status(url, basic('alice'))).status, 200);
  });

  it('the admin role comes from auth.admins whatever the strategy', async () => {
    const created = await fetch(`${server.url}/sleep/async`, {
      method: 'POST',
      headers: basic('bob'),
      body: new URLSearchParams({ DURATION: '1' }),
      redirect: 'manual',
    });
    const url = created.headers.get('location')!;
    for (const admin of [basic('root'), { 'x-remote-user': 'root' }, bearer(await world.signHs('root'))]) {
      assert.equal((await status(url, admin)).status, 200);
    }
    const del = await fetch(url, {
      method: 'DELETE',
      headers: { 'x-remote-user': 'root' },
      redirect: 'manual',
    });
    assert.equal(del.status, 303);
    assert.equal((await status(url, basic('bob'))).status, 404);
  });

  it('security headers on answers of every kind, 401s included', async () => {
    for (const [url, headers] of [
      [`${server.url}/`, { accept: 'text/html' }],
      [`${server.url}/sleep/async`, {}],
      [`${server.url}/sleep/async`, basic('alice', 'wrong')],
      [`${server.url}/nowhere`, {}],
    ] as const) {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', url);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', url);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/, url);
    }
  });
});

describe('proxy header trust and refused anonymous access', () => {
  let tmp: ReturnType<typeof tempDir>;
  after(() => tmp?.cleanup());

  it('the proxy header from an untrusted address is ignored', async () => {
    tmp = tempDir('auth-proxy');
    const server = await serve(tmp.dir, {
      auth: { strategies: ['proxy-header'], proxyHeader: { trustedProxies: ['10.0.0.0/8', 'fd00::/8'] } },
    });
    try {
      const res = await fetch(`${server.url}/sleep/async`, {
        method: 'POST',
        headers: { 'x-remote-user': 'alice' },
        body: new URLSearchParams({ DURATION: '1' }),
        redirect: 'manual',
      });
      assert.equal(res.status, 303);
      assert.equal(await (await fetch(`${res.headers.get('location')}/owner`)).text(), '');
    } finally {
      await server.stop();
    }
  });

  it('allowAnonymous false: 401 without credentials (403 where no strategy can challenge); VOSI stays open', async () => {
    const dir = tempDir('auth-closed');
    const world = await authWorld(dir.dir);
    const closed = await serve(dir.dir, { auth: { ...world.auth, allowAnonymous: false } });
    const proxyOnly = await serve(path.join(dir.dir), {
      store: { url: `sqlite:${path.join(dir.dir, 'other.db')}` },
      auth: {
        strategies: ['proxy-header'],
        proxyHeader: { trustedProxies: ['10.0.0.1'] },
        allowAnonymous: false,
      },
    });
    try {
      const refused = await status(`${closed.url}/sleep/async`);
      assert.equal(refused.status, 401);
      assert.match(refused.text, /anonymous access is not allowed/);
      assert.match(refused.challenge!, /^Basic realm="ivoa-uws", charset="UTF-8", Bearer realm="ivoa-uws"$/);
      assert.equal((await status(`${closed.url}/sleep/async`, basic('alice'))).status, 200);
      for (const p of ['/', '/sleep/capabilities', '/sleep/availability']) {
        assert.equal((await status(`${closed.url}${p}`)).status, 200, p);
      }
      assert.equal((await status(`${closed.url}/no/such/path`)).status, 401);
      assert.equal((await status(`${closed.url}/metrics`)).status, 401);
      assert.equal((await status(`${closed.url}/metrics`, basic('alice'))).status, 200);
      const forbidden = await status(`${proxyOnly.url}/sleep/async`);
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.challenge, null);
    } finally {
      await closed.stop();
      await proxyOnly.stop();
      dir.cleanup();
    }
  });

  it('a bad auth set-up stops the start with a message naming it', async () => {
    const dir = tempDir('auth-bad');
    try {
      await assert.rejects(
        serve(dir.dir, {
          auth: { strategies: ['basic'], basic: { passwordFile: path.join(dir.dir, 'missing') } },
        }),
        /ENOENT.*missing/,
      );
      fs.writeFileSync(path.join(dir.dir, 'plain'), 'alice:secret\n');
      await assert.rejects(
        serve(dir.dir, {
          auth: { strategies: ['basic'], basic: { passwordFile: path.join(dir.dir, 'plain') } },
        }),
        /line 1: the hash is neither bcrypt/,
      );
      assert.throws(
        () =>
          validateConfig({
            auth: { strategies: ['proxy-header'], proxyHeader: { trustedProxies: ['10.0.0.0/33'] } },
          }),
        /auth\.proxyHeader\.trustedProxies\[0\]: not an IP address or CIDR block/,
      );
      assert.throws(
        () => validateConfig({ auth: { strategies: ['basic'] } }),
        /strategy basic needs auth\.basic/,
      );
      assert.throws(
        () => validateConfig({ auth: { allowAnonymous: false } }),
        /no strategy identifies anyone/,
      );
    } finally {
      dir.cleanup();
    }
  });
});

describe('auth building blocks', () => {
  it('password file: comments, both hash kinds, every bad line reported', () => {
    const hash = bcrypt.hashSync('pw', 4);
    const ok = parsePasswordFile(
      `# c\n\nalice:${hash}\ncarol:$argon2id$v=19$m=4096,t=2,p=1$c2FsdHNhbHQ$aGFzaA\n`,
    );
    assert.deepEqual([...ok.keys()], ['alice', 'carol']);
    assert.throws(
      () => parsePasswordFile(`alice:${hash}\nalice:${hash}\nbob\n:${hash}\neve:md5hash\n`, 'pw'),
      (err: Error) => {
        assert.match(err.message, /pw line 2: alice is listed twice/);
        assert.match(err.message, /pw line 3: expected owner:hash/);
        assert.match(err.message, /pw line 4: expected owner:hash/);
        assert.match(err.message, /pw line 5: the hash is neither/);
        return true;
      },
    );
  });

  it('a changed password file is picked up; one that does not parse keeps the old content', async () => {
    const dir = tempDir('auth-watch');
    try {
      const file = path.join(dir.dir, 'pw');
      fs.writeFileSync(file, `alice:${bcrypt.hashSync('one', 4)}\n`);
      const watched = new WatchedFile(file, (t) => parsePasswordFile(t), 0);
      assert.deepEqual([...(await watched.value()).keys()], ['alice']);
      fs.writeFileSync(file, `alice:${bcrypt.hashSync('one', 4)}\nbob:${bcrypt.hashSync('two', 4)}\n`);
      assert.deepEqual([...(await watched.value(Date.now() + 1)).keys()], ['alice', 'bob']);
      fs.writeFileSync(file, 'garbage without a hash, longer than before\n');
      assert.deepEqual([...(await watched.value(Date.now() + 2)).keys()], ['alice', 'bob']);
      assert.match(watched.lastError ?? '', /expected owner:hash/);
    } finally {
      dir.cleanup();
    }
  });

  it('CIDR blocks: IPv4, IPv6, IPv4-mapped peers; bad entries refused', () => {
    const list = addressList(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
    assert.equal(addressIn(list, '10.1.2.3'), true);
    assert.equal(addressIn(list, '::ffff:10.1.2.3'), true);
    assert.equal(addressIn(list, '192.168.1.7'), true);
    assert.equal(addressIn(list, '192.168.1.8'), false);
    assert.equal(addressIn(list, 'fd12::1'), true);
    assert.equal(addressIn(list, '127.0.0.1'), false);
    assert.equal(addressIn(list, undefined), false);
    assert.equal(addressIn(list, 'not-an-ip'), false);
    for (const bad of ['10.0.0.0/33', 'example.org', '10.0.0.0/8/1', '::1/129', '1.2.3.4/x']) {
      assert.throws(() => addressList([bad]), /not an IP address or CIDR block/, bad);
    }
  });

  it('an authenticator refuses with UnauthorizedError and finds admins', async () => {
    const auth = createAuthenticator({
      strategies: ['proxy-header'],
      allowAnonymous: true,
      admins: ['boss'],
      realm: 'r',
      proxyHeader: { trustedProxies: ['127.0.0.1'] },
    });
    const peer = { remoteAddress: '127.0.0.1' };
    assert.deepEqual(await auth.identify({ headers: { 'x-remote-user': 'boss' }, ...peer }), {
      ownerId: 'boss',
      admin: true,
    });
    assert.deepEqual(await auth.identify({ headers: { 'x-remote-user': 'al' }, ...peer }), { ownerId: 'al' });
    assert.deepEqual(await auth.identify({ headers: {}, ...peer }), { ownerId: null });
    await assert.rejects(
      auth.identify({ headers: { 'x-remote-user': 'x'.repeat(300) }, ...peer }),
      (e: unknown) =>
        e instanceof UnauthorizedError && e.statusCode === 403 && /longer than 256/.test(e.message),
    );
  });
});
