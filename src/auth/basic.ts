import { createHash } from 'node:crypto';
import { DECOY, type PasswordEntry, parsePasswordFile, verifyPassword } from './password-file.js';
import { ABSENT, type AuthOutcome, type AuthRequest, type AuthStrategy } from './types.js';
import { WatchedFile } from './watched-file.js';

export interface BasicOptions {
  readonly passwordFile: string;
  readonly realm: string;
  /** How long a verified user:password pair is remembered (bcrypt and argon2 are slow on purpose). */
  readonly cacheSeconds?: number;
}

const MAX_CACHE_ENTRIES = 10_000;
const MAX_CREDENTIALS_LENGTH = 4096;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * HTTP Basic (RFC 7617) against a password file of bcrypt or argon2 hashes.
 * Verified pairs are remembered for a minute (keyed by a hash of the pair and
 * of the file's entry, so a changed password takes effect at once); failures
 * are not, so guessing stays as slow as the hash makes it.
 */
export function basicStrategy(options: BasicOptions): AuthStrategy {
  const file = new WatchedFile(options.passwordFile, (text) => parsePasswordFile(text, options.passwordFile));
  const cacheMs = (options.cacheSeconds ?? 60) * 1000;
  const verified = new Map<string, number>();
  const challenge = () => `Basic realm="${options.realm}", charset="UTF-8"`;

  async function check(entry: PasswordEntry | undefined, password: string, key: string): Promise<boolean> {
    const until = verified.get(key);
    if (until !== undefined && until > Date.now()) return true;
    const ok = await verifyPassword(entry ?? DECOY, password);
    if (!ok || !entry) return false;
    if (verified.size >= MAX_CACHE_ENTRIES) verified.clear();
    verified.set(key, Date.now() + cacheMs);
    return true;
  }

  return {
    name: 'basic',
    challenge,
    async identify(request: AuthRequest): Promise<AuthOutcome> {
      const credentials = schemeValue(request.headers['authorization'], 'basic');
      if (credentials === undefined) return ABSENT;
      const pair = decodeBasic(credentials);
      if (typeof pair === 'string') return { kind: 'refused', reason: pair };
      const users = await file.value();
      const entry = users.get(pair.user);
      const key = createHash('sha256')
        .update(`${pair.user}\u0000${pair.password}\u0000${entry?.hash ?? ''}`)
        .digest('hex');
      if (!(await check(entry, pair.password, key))) {
        return { kind: 'refused', reason: 'the user name or password is wrong' };
      }
      return { kind: 'owner', ownerId: pair.user };
    },
  };
}

/** The credentials after `scheme` in an Authorization header, if it uses that scheme. */
export function schemeValue(header: string | string[] | undefined, scheme: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  const space = header.indexOf(' ');
  const name = space < 0 ? header : header.slice(0, space);
  if (name.toLowerCase() !== scheme) return undefined;
  return space < 0 ? '' : header.slice(space + 1).trim();
}

/** user and password from Basic credentials, or why they cannot be read. */
function decodeBasic(credentials: string): { user: string; password: string } | string {
  if (credentials.length === 0 || credentials.length > MAX_CREDENTIALS_LENGTH || !BASE64.test(credentials)) {
    return 'the Basic credentials are not base64';
  }
  let text: string;
  try {
    text = strictUtf8.decode(Buffer.from(credentials, 'base64'));
  } catch {
    return 'the Basic credentials are not UTF-8';
  }
  const colon = text.indexOf(':');
  if (colon < 0) return 'the Basic credentials have no colon between user and password';
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}
