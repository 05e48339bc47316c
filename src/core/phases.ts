/** The ten UWS 1.1 execution phases, exactly as the schema spells them (OBJ-6). */
export const PHASES = [
  'PENDING',
  'QUEUED',
  'EXECUTING',
  'COMPLETED',
  'ERROR',
  'ABORTED',
  'UNKNOWN',
  'HELD',
  'SUSPENDED',
  'ARCHIVED',
] as const;

export type Phase = (typeof PHASES)[number];

const PHASE_SET: ReadonlySet<string> = new Set(PHASES);

export function isPhase(value: string): value is Phase {
  return PHASE_SET.has(value);
}

/** Phases in which a blocking WAIT may block (WAIT-4). */
export const ACTIVE_PHASES: ReadonlySet<Phase> = new Set<Phase>(['PENDING', 'QUEUED', 'EXECUTING']);

/** Phases a job never leaves except to ARCHIVED (the race rule: a late event cannot undo them). */
export const END_PHASES: ReadonlySet<Phase> = new Set<Phase>(['COMPLETED', 'ERROR', 'ABORTED']);

/** Phases that hold a run slot or may still run: what the scheduler and limits count. */
export const UNFINISHED_PHASES: ReadonlySet<Phase> = new Set<Phase>([
  'PENDING',
  'QUEUED',
  'EXECUTING',
  'HELD',
  'SUSPENDED',
  'UNKNOWN',
]);

export function isEndPhase(phase: Phase): boolean {
  return END_PHASES.has(phase) || phase === 'ARCHIVED';
}
