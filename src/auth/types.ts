import type { Caller } from '../service.js';

/** What a strategy may look at: the request's headers and the address of the peer that sent it. */
export interface AuthRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * The TCP peer's address (not X-Forwarded-For): whom a proxy header is
   * trusted from depends on who actually connected.
   */
  readonly remoteAddress: string | undefined;
}

/**
 * A strategy's verdict. `absent`: the request carries no credentials of this
 * kind, so another strategy (or anonymity) may apply. `refused`: it carries
 * some and they are wrong, which is always a 401, never a quiet fall-back to
 * anonymous access.
 */
export type AuthOutcome =
  | { readonly kind: 'absent' }
  | { readonly kind: 'owner'; readonly ownerId: string }
  | { readonly kind: 'refused'; readonly reason: string };

export interface AuthStrategy {
  readonly name: string;
  /** The WWW-Authenticate challenge this strategy adds to a 401, if it has one. */
  readonly challenge?: (reason?: string) => string;
  identify(request: AuthRequest): Promise<AuthOutcome>;
}

export type { Caller };

export const ABSENT: AuthOutcome = { kind: 'absent' };

/** Longest owner id accepted from any strategy. */
export const MAX_OWNER_ID_LENGTH = 256;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `id` cannot be an owner id (it reaches documents, logs and limits keys), or null. */
export function ownerIdProblem(id: string): string | null {
  if (id.length === 0) return 'it is empty';
  if (id.length > MAX_OWNER_ID_LENGTH) return `it is longer than ${MAX_OWNER_ID_LENGTH} characters`;
  if (CONTROL.test(id)) return 'it contains a control character';
  if (id.trim() !== id) return 'it starts or ends with white space';
  if (LONE_SURROGATE.test(id)) return 'it is not well-formed Unicode';
  return null;
}
