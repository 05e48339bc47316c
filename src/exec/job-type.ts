import type { Job } from '../core/job.js';
import { type ParameterDeclaration, ParameterSchema } from '../core/parameters.js';
import { DEFAULT_TIME_POLICY, type TimePolicy, validateTimePolicy } from '../core/policy.js';
import type { Executor } from './types.js';

/** What a site declares to offer a computation as UWS jobs. */
export interface JobTypeDefinition {
  /** Also the path segment of its job list: /{name}/async. Letters, digits, - and _. */
  readonly name: string;
  readonly description?: string;
  readonly parameters?: readonly ParameterDeclaration[];
  readonly timePolicy?: {
    readonly executionDuration?: Partial<TimePolicy['executionDuration']>;
    readonly lifetime?: Partial<TimePolicy['lifetime']>;
  };
  /** At most this many jobs of this type EXECUTING at once, over all nodes. */
  readonly maxExecuting?: number;
  /** A job interrupted by a crash goes back to QUEUED instead of ERROR. */
  readonly restartable?: boolean;
  /** Estimated run time in seconds, for the quote (OBJ-26); null for "don't know". */
  readonly estimateSeconds?: (job: Job) => number | null;
  /** The result the sync facade redirects to. Default `result`. */
  readonly mainResult?: string;
  readonly executor: Executor;
}

/** A job type with its declarations compiled, as the service and scheduler use it. */
export interface JobType {
  readonly name: string;
  readonly description: string;
  readonly schema: ParameterSchema;
  readonly timePolicy: TimePolicy;
  readonly maxExecuting: number;
  readonly restartable: boolean;
  readonly estimateSeconds: ((job: Job) => number | null) | undefined;
  readonly mainResult: string;
  readonly executor: Executor;
}

const JOB_TYPE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export function compileJobType(def: JobTypeDefinition): JobType {
  if (!JOB_TYPE_NAME.test(def.name)) {
    throw new Error(
      `job type name '${def.name}' must start with a letter and contain only letters, digits, - and _`,
    );
  }
  const timePolicy: TimePolicy = {
    executionDuration: { ...DEFAULT_TIME_POLICY.executionDuration, ...def.timePolicy?.executionDuration },
    lifetime: { ...DEFAULT_TIME_POLICY.lifetime, ...def.timePolicy?.lifetime },
  };
  validateTimePolicy(timePolicy, `job type ${def.name}`);
  const maxExecuting = def.maxExecuting ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(maxExecuting) || maxExecuting < 1) {
    throw new Error(`job type ${def.name}: maxExecuting must be an integer >= 1`);
  }
  return {
    name: def.name,
    description: def.description ?? '',
    schema: new ParameterSchema(def.parameters ?? []),
    timePolicy,
    maxExecuting,
    restartable: def.restartable ?? false,
    estimateSeconds: def.estimateSeconds,
    mainResult: def.mainResult ?? 'result',
    executor: def.executor,
  };
}

export class JobTypeRegistry {
  private readonly types = new Map<string, JobType>();

  constructor(definitions: readonly JobTypeDefinition[]) {
    for (const def of definitions) {
      if (this.types.has(def.name)) throw new Error(`job type ${def.name} is declared twice`);
      this.types.set(def.name, compileJobType(def));
    }
  }

  get(name: string): JobType | undefined {
    return this.types.get(name);
  }

  all(): JobType[] {
    return [...this.types.values()];
  }
}
