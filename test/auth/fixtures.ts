import fs from 'node:fs';
import path from 'node:path';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { startServer } from '../../src/app.js';
import { tokenDigest } from '../../src/auth/bearer.js';
import { type UwsConfigInput, validateConfig } from '../../src/config/index.js';

export type Server = Awaited<ReturnType<typeof startServer>>;

/** Credentials of one owner under one strategy, as request headers. */
export type Credentials = Record<string, string>;

export interface AuthWorld {
  readonly dir: string;
  /** HS256 secret and an ES256 key pair whose public half is in the JWKS file. */
  signHs(sub: string, claims?: Record<string, unknown>, expires?: string): Promise<string>;
  signEs(sub: string, claims?: Record<string, unknown>): Promise<string>;
  /** An ES256 token from a key the service does not know. */
  signForeign(sub: string): Promise<string>;
  readonly auth: NonNullable<UwsConfigInput['auth']>;
}

export const PASSWORDS: Record<string, string> = {
  alice: 'alice-secret',
  bob: 'b0b:has:colons',
  carol: 'carol-argon',
  dave: 'dave-argon',
  root: 'root-pw',
  'ünïcode user': 'pässwörd',
};
export const TOKENS: Record<string, string> = {
  'tok-alice-0123456789abcdef': 'alice',
  'tok-bob-0123456789abcdef': 'bob',
};
export const ISSUER = 'https://issuer.example';
export const AUDIENCE = 'ivoa-uws-tests';

/** Writes the password, tokens, secret and JWKS files of a test world into `dir`. */
export async function authWorld(dir: string): Promise<AuthWorld> {
  const lines = ['# test users', ''];
  for (const [user, password] of Object.entries(PASSWORDS)) {
    const hash =
      user === 'carol' || user === 'dave'
        ? await argon2.hash(password, { timeCost: 2, memoryCost: 4096, parallelism: 1 })
        : bcrypt.hashSync(password, 4);
    lines.push(`${user}:${hash}`);
  }
  const passwordFile = path.join(dir, 'passwords');
  fs.writeFileSync(passwordFile, `${lines.join('\n')}\n`);
  const tokensFile = path.join(dir, 'tokens');
  fs.writeFileSync(
    tokensFile,
    Object.entries(TOKENS)
      .map(([token, owner]) => `${tokenDigest(token)} ${owner}`)
      .join('\n'),
  );
  const secret = 'a-test-secret-of-more-than-thirty-two-bytes';
  const secretFile = path.join(dir, 'jwt-secret');
  fs.writeFileSync(secretFile, `${secret}\n`);
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const foreign = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const jwksFile = path.join(dir, 'jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  const hs = new TextEncoder().encode(secret);
  return {
    dir,
    signHs: (sub, claims = {}, expires = '5m') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuer(ISSUER)
        .setAudience((claims['aud'] as string | undefined) ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(expires)
        .sign(hs),
    signEs: (sub, claims = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
    signForeign: (sub) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject(sub)
        .setExpirationTime('5m')
        .sign(foreign.privateKey),
    auth: {
      strategies: ['basic', 'bearer', 'proxy-header'],
      admins: ['root'],
      basic: { passwordFile },
      bearer: { tokensFile, jwt: { secretFile, issuer: ISSUER, audience: AUDIENCE } },
      proxyHeader: { trustedProxies: ['127.0.0.1/32', '::1'] },
    },
  };
}

export function basic(user: string, password = PASSWORDS[user] ?? ''): Credentials {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` };
}

export function bearer(token: string): Credentials {
  return { authorization: `Bearer ${token}` };
}

/** A real server (SQLite file, no scheduler unless asked) with the given settings on 127.0.0.1, any free port. */
export async function serve(dir: string, extra: UwsConfigInput, runJobs = false): Promise<Server> {
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    store: { url: `sqlite:${path.join(dir, 'jobs.db')}` },
    workDir: path.join(dir, 'work'),
    log: { level: 'silent' },
    ...extra,
  });
  return startServer(config, { runJobs });
}
