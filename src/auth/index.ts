export {
  type Authenticator,
  type AuthSettings,
  createAuthenticator,
  DEFAULT_AUTH,
  type StrategyName,
} from './authenticator.js';
export type { JwtOptions } from './bearer.js';
export { parseTokensFile, tokenDigest } from './bearer.js';
export { UnauthorizedError } from './errors.js';
export { parsePasswordFile } from './password-file.js';
export { addressIn, addressList } from './proxy-header.js';
export type { AuthOutcome, AuthRequest, AuthStrategy } from './types.js';
