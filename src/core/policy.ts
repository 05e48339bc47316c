import { BadRequestError } from './errors.js';
import { XS_INT_MAX } from './job.js';

/**
 * Limits a job type puts on its jobs' time properties (OBJ-21, OBJ-23, ED-4, DS-4).
 * All in seconds. A client may lower a value but never exceed the maximum; asking
 * for more silently gets the maximum, which the job document then shows.
 */
export interface TimePolicy {
  readonly executionDuration: {
    readonly default: number;
    readonly max: number;
    /** Whether 0 (unlimited) may be requested; otherwise 0 means the maximum. */
    readonly allowUnlimited: boolean;
  };
  readonly lifetime: {
    readonly default: number;
    readonly max: number;
  };
}

export const DEFAULT_TIME_POLICY: TimePolicy = {
  executionDuration: { default: 600, max: 3600, allowUnlimited: false },
  lifetime: { default: 7 * 86_400, max: 30 * 86_400 },
};

export function validateTimePolicy(policy: TimePolicy, where: string): void {
  const { executionDuration: ed, lifetime: lt } = policy;
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`${where}: ${what}`);
  };
  check(Number.isInteger(ed.default) && ed.default >= 0, 'executionDuration.default must be an integer >= 0');
  check(
    Number.isInteger(ed.max) && ed.max >= 0 && ed.max <= XS_INT_MAX,
    'executionDuration.max must fit xs:int',
  );
  check(ed.default <= ed.max || ed.max === 0, 'executionDuration.default exceeds executionDuration.max');
  check(
    ed.default !== 0 || ed.allowUnlimited,
    'executionDuration.default is 0 (unlimited) but allowUnlimited is false',
  );
  check(lt.default > 0 && lt.default <= lt.max, 'lifetime.default must be > 0 and <= lifetime.max');
}

/**
 * Parses a requested EXECUTIONDURATION. Integral floats such as pyvo's "600.0"
 * are accepted (ED-5); fractions are cut to whole seconds (at least 1); negatives, non-numbers
 * are refused.
 */
export function parseExecutionDuration(text: string): number {
  const t = text.trim();
  if (!/^\+?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) {
    throw new BadRequestError(
      `EXECUTIONDURATION: '${t.slice(0, 40)}' is not a non-negative number of seconds`,
      'EXECUTIONDURATION',
    );
  }
  const requested = Number(t);
  // A fraction of a second rounds up to 1: cutting it to 0 would turn a tiny limit into "unlimited".
  const n = requested > 0 && requested < 1 ? 1 : Math.floor(requested);
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** The execution duration a job gets when the client asks for `requested` seconds (undefined: default). */
export function effectiveExecutionDuration(policy: TimePolicy, requested: number | undefined): number {
  const { default: def, max, allowUnlimited } = policy.executionDuration;
  if (requested === undefined) return def;
  const ceiling = max === 0 ? XS_INT_MAX : max;
  if (requested === 0) return allowUnlimited ? 0 : ceiling;
  return Math.min(requested, ceiling, XS_INT_MAX);
}

/** The destruction instant for a job created at `creationTime` when the client asks for `requested`. */
export function effectiveDestruction(
  policy: TimePolicy,
  creationTime: number,
  requested: number | undefined,
): number {
  const latest = creationTime + policy.lifetime.max * 1000;
  if (requested === undefined) return creationTime + policy.lifetime.default * 1000;
  return Math.min(requested, latest);
}
