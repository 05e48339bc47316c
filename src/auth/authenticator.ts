import type { Caller } from '../service.js';
import { basicStrategy } from './basic.js';
import { type BearerOptions, bearerStrategy, type JwtOptions } from './bearer.js';
import { UnauthorizedError } from './errors.js';
import { type ProxyHeaderOptions, proxyHeaderStrategy } from './proxy-header.js';
import type { AuthRequest, AuthStrategy } from './types.js';

export type StrategyName = 'anonymous' | 'basic' | 'bearer' | 'proxy-header';

/** The `auth` section of the config (config/schema.ts), usable on its own by library users. */
export interface AuthSettings {
  /** Tried in this order; `anonymous` alone (the default) identifies nobody. */
  readonly strategies: readonly StrategyName[];
  /** Whether a request without credentials is served as the anonymous owner (true) or gets 401. */
  readonly allowAnonymous: boolean;
  /** Owner ids with the admin role: they see and change every job. */
  readonly admins: readonly string[];
  readonly realm: string;
  readonly basic?: { readonly passwordFile: string; readonly cacheSeconds?: number };
  readonly bearer?: { readonly tokensFile?: string; readonly jwt?: JwtOptions };
  readonly proxyHeader?: ProxyHeaderOptions;
}

export const DEFAULT_AUTH: AuthSettings = {
  strategies: ['anonymous'],
  allowAnonymous: true,
  admins: [],
  realm: 'ivoa-uws',
};

/** Identifies the owner of a request, or throws UnauthorizedError (401). */
export interface Authenticator {
  identify(request: AuthRequest, options?: { publicResource?: boolean }): Promise<Caller>;
  /** The challenges a 401 carries. */
  readonly challenges: readonly string[];
}

/**
 * Builds the strategies of `settings` (reading their files now, so a bad file
 * stops the start) and combines them: the first strategy that finds its kind of
 * credentials decides; wrong credentials are a 401 whatever `allowAnonymous`
 * says; no credentials at all mean the anonymous owner, or a 401 when anonymous
 * access is refused (except on public resources such as VOSI).
 */
export function createAuthenticator(settings: AuthSettings = DEFAULT_AUTH): Authenticator {
  const strategies: AuthStrategy[] = [];
  for (const name of new Set(settings.strategies)) {
    if (name === 'anonymous') continue;
    if (name === 'basic') {
      if (!settings.basic) throw new Error('auth.strategies has basic but auth.basic is not set');
      strategies.push(basicStrategy({ ...settings.basic, realm: settings.realm }));
    } else if (name === 'bearer') {
      const bearer: BearerOptions = { ...(settings.bearer ?? {}), realm: settings.realm };
      if (!bearer.tokensFile && !bearer.jwt) {
        throw new Error(
          'auth.strategies has bearer but neither auth.bearer.tokensFile nor auth.bearer.jwt is set',
        );
      }
      strategies.push(bearerStrategy(bearer));
    } else if (name === 'proxy-header') {
      if (!settings.proxyHeader)
        throw new Error('auth.strategies has proxy-header but auth.proxyHeader is not set');
      strategies.push(proxyHeaderStrategy(settings.proxyHeader));
    }
  }
  const admins = new Set(settings.admins);
  const challenges = strategies.flatMap((s) => (s.challenge ? [s.challenge()] : []));
  const anonymous: Caller = { ownerId: null };

  return {
    challenges,
    async identify(request, options = {}) {
      for (const strategy of strategies) {
        const outcome = await strategy.identify(request);
        if (outcome.kind === 'absent') continue;
        if (outcome.kind === 'refused') {
          const own = strategy.challenge?.(outcome.reason);
          throw new UnauthorizedError(
            `authentication failed: ${outcome.reason}`,
            own ? [own, ...challenges.filter((c) => !c.startsWith(own.split(' ')[0]!))] : challenges,
          );
        }
        return admins.has(outcome.ownerId)
          ? { ownerId: outcome.ownerId, admin: true }
          : { ownerId: outcome.ownerId };
      }
      if (!settings.allowAnonymous && !options.publicResource) {
        throw new UnauthorizedError(
          'this service needs authentication; anonymous access is not allowed',
          challenges,
        );
      }
      return anonymous;
    },
  };
}
