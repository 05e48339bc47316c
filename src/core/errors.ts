import type { Phase } from './phases.js';

/**
 * Typed failures of the service. Each kind maps to one HTTP status in http/, so
 * the facade can say what went wrong without knowing about HTTP.
 */
export type UwsErrorKind =
  | 'BadRequest'
  | 'NotFound'
  | 'Forbidden'
  | 'NotAllowedInPhase'
  | 'PayloadTooLarge'
  | 'RateLimited'
  | 'Unavailable';

export class UwsError extends Error {
  readonly kind: UwsErrorKind;
  constructor(kind: UwsErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.name = `UwsError(${kind})`;
  }
}

/** A request value that cannot be accepted; `parameter` names the offending input. */
export class BadRequestError extends UwsError {
  readonly parameter: string | undefined;
  constructor(message: string, parameter?: string) {
    super('BadRequest', message);
    this.parameter = parameter;
  }
}

export class NotFoundError extends UwsError {
  constructor(message: string) {
    super('NotFound', message);
  }
}

export class ForbiddenError extends UwsError {
  constructor(message: string) {
    super('Forbidden', message);
  }
}

export class NotAllowedInPhaseError extends UwsError {
  readonly phase: Phase;
  constructor(message: string, phase: Phase) {
    super('NotAllowedInPhase', message);
    this.phase = phase;
  }
}

export class PayloadTooLargeError extends UwsError {
  constructor(message: string) {
    super('PayloadTooLarge', message);
  }
}

export class RateLimitedError extends UwsError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super('RateLimited', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class UnavailableError extends UwsError {
  constructor(message: string) {
    super('Unavailable', message);
  }
}

/** A transition the table does not define: a programming or protocol error, never silently applied. */
export class InvalidTransitionError extends NotAllowedInPhaseError {
  readonly to: Phase;
  constructor(from: Phase, to: Phase, actor: string) {
    super(`a ${actor} cannot move a job from ${from} to ${to}`, from);
    this.to = to;
  }
}
