import { InvalidTransitionError } from './errors.js';
import { END_PHASES, type Phase } from './phases.js';

/** Who asks for a change: a client over the protocol, or the server's own machinery. */
export type Actor = 'client' | 'server';

export interface TransitionRule {
  readonly from: Phase;
  readonly to: Phase;
  readonly actor: Actor;
  /** What the change means, for logs and metrics. */
  readonly event: string;
}

/**
 * The UWS state machine as data (OBJ-17, OBJ-18). HELD is never entered by this
 * server (AMB-1) but a RUN on it is honoured should a store hold one.
 */
export const TRANSITIONS: readonly TransitionRule[] = [
  { from: 'PENDING', to: 'QUEUED', actor: 'client', event: 'run' },
  { from: 'HELD', to: 'QUEUED', actor: 'client', event: 'run' },
  { from: 'PENDING', to: 'ABORTED', actor: 'client', event: 'abort' },
  { from: 'QUEUED', to: 'ABORTED', actor: 'client', event: 'abort' },
  { from: 'EXECUTING', to: 'ABORTED', actor: 'client', event: 'abort' },
  { from: 'HELD', to: 'ABORTED', actor: 'client', event: 'abort' },
  { from: 'SUSPENDED', to: 'ABORTED', actor: 'client', event: 'abort' },

  { from: 'PENDING', to: 'QUEUED', actor: 'server', event: 'run' },
  { from: 'QUEUED', to: 'EXECUTING', actor: 'server', event: 'start' },
  { from: 'EXECUTING', to: 'COMPLETED', actor: 'server', event: 'complete' },
  { from: 'EXECUTING', to: 'ERROR', actor: 'server', event: 'fail' },
  { from: 'EXECUTING', to: 'ABORTED', actor: 'server', event: 'abort' },
  { from: 'EXECUTING', to: 'SUSPENDED', actor: 'server', event: 'suspend' },
  { from: 'EXECUTING', to: 'QUEUED', actor: 'server', event: 'requeue' },
  { from: 'SUSPENDED', to: 'EXECUTING', actor: 'server', event: 'resume' },
  { from: 'SUSPENDED', to: 'ERROR', actor: 'server', event: 'fail' },
  { from: 'SUSPENDED', to: 'ABORTED', actor: 'server', event: 'abort' },
  { from: 'PENDING', to: 'ERROR', actor: 'server', event: 'fail' },
  { from: 'QUEUED', to: 'ERROR', actor: 'server', event: 'fail' },
  { from: 'PENDING', to: 'ABORTED', actor: 'server', event: 'abort' },
  { from: 'QUEUED', to: 'ABORTED', actor: 'server', event: 'abort' },
  { from: 'HELD', to: 'ERROR', actor: 'server', event: 'fail' },
  { from: 'UNKNOWN', to: 'ERROR', actor: 'server', event: 'fail' },
  { from: 'COMPLETED', to: 'ARCHIVED', actor: 'server', event: 'archive' },
  { from: 'ERROR', to: 'ARCHIVED', actor: 'server', event: 'archive' },
  { from: 'ABORTED', to: 'ARCHIVED', actor: 'server', event: 'archive' },
];

const RULES = new Map<string, TransitionRule>(TRANSITIONS.map((t) => [`${t.actor}:${t.from}>${t.to}`, t]));

export type TransitionPlan =
  | { readonly kind: 'apply'; readonly rule: TransitionRule }
  /** Nothing to do: same phase, or a late event against a job that has already ended. */
  | { readonly kind: 'noop'; readonly reason: 'same-phase' | 'already-ended' };

/**
 * Decides what a requested phase change does. Same-phase requests and any change
 * of a job that has ended (other than archiving) are no-ops, so that a late
 * COMPLETED after an ABORT keeps ABORTED; undefined transitions throw.
 */
export function planTransition(from: Phase, to: Phase, actor: Actor): TransitionPlan {
  if (from === to) return { kind: 'noop', reason: 'same-phase' };
  const rule = RULES.get(`${actor}:${from}>${to}`);
  if (rule) return { kind: 'apply', rule };
  if (from === 'ARCHIVED' || (END_PHASES.has(from) && to !== 'ARCHIVED')) {
    return { kind: 'noop', reason: 'already-ended' };
  }
  throw new InvalidTransitionError(from, to, actor);
}

/** Time stamps a transition into `to` sets: startTime on EXECUTING, endTime on an end phase. */
export function timesFor(
  to: Phase,
  now: number,
  current: { startTime: number | null; endTime: number | null },
): { startTime: number | null; endTime: number | null } {
  if (to === 'EXECUTING') return { startTime: current.startTime ?? now, endTime: null };
  if (to === 'QUEUED') return { startTime: null, endTime: null };
  if (END_PHASES.has(to)) return { startTime: current.startTime, endTime: now };
  return { startTime: current.startTime, endTime: current.endTime };
}
