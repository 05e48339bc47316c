import { createHash, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { schemeValue } from './basic.js';
import { ABSENT, type AuthOutcome, type AuthRequest, type AuthStrategy, ownerIdProblem } from './types.js';
import { WatchedFile } from './watched-file.js';

export interface JwtOptions {
  /** A file holding the shared secret of HS256/384/512 tokens (its bytes, trailing newline dropped). */
  readonly secretFile?: string;
  /** A PEM public key (SPKI) of RS*, PS*, ES* or EdDSA tokens. */
  readonly publicKeyFile?: string;
  /** A JWKS document (`{"keys": [...]}`) of public keys, chosen by `kid`. */
  readonly jwksFile?: string;
  /** Accepted `alg` values; by default those that fit the key. */
  readonly algorithms?: readonly string[];
  readonly issuer?: string;
  readonly audience?: string;
  /** The claim that names the owner (default `sub`). */
  readonly ownerClaim?: string;
  readonly clockToleranceSeconds?: number;
}

export interface BearerOptions {
  readonly realm: string;
  /** Lines of `<sha256 hex of the token> <owner>`; `#` starts a comment line. */
  readonly tokensFile?: string;
  readonly jwt?: JwtOptions;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_TOKEN_LENGTH = 8192;
const SYMMETRIC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Parses a tokens file into sha256-hex -> owner; the file never holds the tokens themselves. */
export function parseTokensFile(text: string, file = 'tokens file'): Map<string, string> {
  const out = new Map<string, string>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = `${file} line ${i + 1}`;
    const match = /^(\S+)\s+(.+)$/.exec(line);
    const digest = match?.[1]?.toLowerCase();
    const owner = match?.[2]?.trim();
    if (!digest || !owner || !SHA256_HEX.test(digest)) {
      problems.push(`${at}: expected '<sha256 hex of the token> <owner>'`);
      return;
    }
    const problem = ownerIdProblem(owner);
    if (problem) problems.push(`${at}: the owner is not usable: ${problem}`);
    else if (out.has(digest)) problems.push(`${at}: this token is listed twice`);
    else out.set(digest, owner);
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return out;
}

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Bearer tokens (RFC 6750): opaque tokens looked up by their SHA-256 in a
 * tokens file, and JWTs verified with jose against a configured secret, public
 * key or JWKS file. A token that is neither known nor a valid JWT is refused.
 */
export function bearerStrategy(options: BearerOptions): AuthStrategy {
  const tokens = options.tokensFile
    ? new WatchedFile(options.tokensFile, (text) => parseTokensFile(text, options.tokensFile))
    : null;
  const jwt = options.jwt ? jwtVerifier(options.jwt) : null;
  const challenge = (reason?: string) =>
    reason === undefined
      ? `Bearer realm="${options.realm}"`
      : `Bearer realm="${options.realm}", error="invalid_token", error_description="${reason.replace(/["\\]/g, "'")}"`;

  return {
    name: 'bearer',
    challenge,
    async identify(request: AuthRequest): Promise<AuthOutcome> {
      const token = schemeValue(request.headers['authorization'], 'bearer');
      if (token === undefined) return ABSENT;
      if (token === '' || token.length > MAX_TOKEN_LENGTH || /\s/.test(token)) {
        return { kind: 'refused', reason: 'the bearer token is malformed' };
      }
      const owner = tokens ? (await tokens.value()).get(tokenDigest(token)) : undefined;
      if (owner !== undefined) return { kind: 'owner', ownerId: owner };
      if (jwt && JWT_SHAPE.test(token)) return jwt(token);
      return { kind: 'refused', reason: 'the bearer token is not known' };
    },
  };
}

function jwtVerifier(options: JwtOptions): (token: string) => Promise<AuthOutcome> {
  const sources = [options.secretFile, options.publicKeyFile, options.jwksFile].filter(
    (s) => s !== undefined,
  );
  if (sources.length !== 1) {
    throw new Error('auth.bearer.jwt needs exactly one of secretFile, publicKeyFile and jwksFile');
  }
  let key: KeyObject | JWTVerifyGetKey;
  let algorithms: string[];
  if (options.secretFile) {
    const secret = readFileSync(options.secretFile)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (Buffer.byteLength(secret) < 32) {
      throw new Error(`${options.secretFile}: a JWT secret needs at least 32 bytes`);
    }
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    algorithms = SYMMETRIC;
  } else if (options.publicKeyFile) {
    key = createPublicKey(readFileSync(options.publicKeyFile, 'utf8'));
    algorithms = ASYMMETRIC;
  } else {
    const jwks = JSON.parse(readFileSync(options.jwksFile!, 'utf8')) as JSONWebKeySet;
    if (!Array.isArray(jwks?.keys)) throw new Error(`${options.jwksFile}: not a JWKS document (no "keys")`);
    key = createLocalJWKSet(jwks);
    algorithms = ASYMMETRIC;
  }
  if (options.algorithms) algorithms = [...options.algorithms];
  const claim = options.ownerClaim ?? 'sub';
  const verifyOptions = {
    algorithms,
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
    clockTolerance: options.clockToleranceSeconds ?? 30,
  };
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      // The overloads differ only in the key's type; both are fine here.
      payload =
        typeof key === 'function'
          ? (await jwtVerify(token, key, verifyOptions)).payload
          : (await jwtVerify(token, key, verifyOptions)).payload;
    } catch (err) {
      return { kind: 'refused', reason: `the token is not valid: ${jwtReason(err)}` };
    }
    const owner = payload[claim];
    if (typeof owner !== 'string') return { kind: 'refused', reason: `the token has no ${claim} claim` };
    const problem = ownerIdProblem(owner);
    if (problem) return { kind: 'refused', reason: `the token's ${claim} is not usable: ${problem}` };
    return { kind: 'owner', ownerId: owner };
  };
}

function jwtReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'it has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `claim ${(err as { claim?: string }).claim ?? ''} does not match`.replace('  ', ' ');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the signature does not verify';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'its algorithm is not accepted';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'no key matches it';
    default:
      return 'it cannot be read';
  }
}
