import { availableParallelism, hostname } from 'node:os';
import { z } from 'zod';
import { XS_INT_MAX } from '../core/job.js';
import { MAX_PARAMETER_LENGTH } from '../core/parameters.js';
import { DEFAULT_TIME_POLICY } from '../core/policy.js';

/*
 * The server's configuration file. Every key has a default, so `{}` (or no file at
 * all) is a working set-up; every object is strict, so a misspelt key is an error
 * rather than a silently ignored setting. Relative paths are relative to the
 * directory the server is started in.
 */

const MiB = 1024 * 1024;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Job type names are also URL path segments: /{name}/async. Same rule as exec/job-type.ts. */
export const JOB_TYPE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** A parameter name as declared: a letter, then letters, digits, `_`, `.` or `-`. */
export const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * `${NAME}` in a command template. NAME is a declared parameter (matched
 * case-insensitively, as UWS parameter names are) or one of PLACEHOLDER_BUILTINS.
 */
export const PLACEHOLDER = /\$\{([^}]*)\}/g;

/**
 * Placeholders every command may use (exec/executors/command.ts): the job's working
 * directory, the folder whose files become results, the job id. Upper case only.
 */
export const PLACEHOLDER_BUILTINS = ['WORKDIR', 'OUTDIR', 'JOBID'] as const;

const seconds = () => z.int().min(0).max(XS_INT_MAX);
const positiveInt = () => z.int().min(1);

const serverSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (tests). */
  port: z.int().min(0).max(65535).default(8080),
  /**
   * The absolute URL clients reach the service at, when it differs from what the
   * request says (behind a proxy): used for Location headers and hrefs. Stored
   * without a trailing slash.
   */
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'expected an absolute http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /** Believe X-Forwarded-* headers (only behind a proxy you run). */
  trustProxy: z.boolean().default(false),
  bodyLimitBytes: positiveInt().default(10 * MiB),
});

/**
 * `sqlite:<path>` (also `sqlite::memory:`) or a plain file path for SQLite;
 * `postgres://...` or `postgresql://...` for PostgreSQL. Same rules as store/index.ts.
 */
const storeUrl = z
  .string()
  .trim()
  .min(1, 'the store URL is empty')
  .refine((u) => !/^sqlite:$/i.test(u), 'sqlite: names no file; use sqlite:./var/uws.db')
  .refine(
    (u) => /^postgres(ql)?:\/\//i.test(u) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(u),
    'unsupported store URL: use sqlite:<path> or postgres://...',
  );

const storeSchema = z.strictObject({
  url: storeUrl.default('sqlite:./var/uws.db'),
});

const schedulerSchema = z
  .strictObject({
    /** Jobs EXECUTING at once over all nodes (the seed's runcountGoal). Default: CPUs of this machine. */
    maxExecuting: positiveInt().default(() => availableParallelism()),
    /** Default: maxExecuting (no per-owner limit beyond the global one). */
    maxExecutingPerOwner: positiveInt().optional(),
    leaseSeconds: positiveInt().default(30),
    destructionSweepSeconds: positiveInt().default(300),
  })
  .transform((s) => ({ ...s, maxExecutingPerOwner: s.maxExecutingPerOwner ?? s.maxExecuting }));

const waitSchema = z.strictObject({
  /** Longest blocking WAIT honoured; longer requests are cut to this. */
  maxSeconds: z.int().min(0).max(3600).default(60),
});

const destructionSchema = z.strictObject({
  /** At destruction time: forget the job, or keep its metadata as ARCHIVED (results dropped). */
  policy: z.enum(['delete', 'archive']).default('delete'),
});

const uploadsSchema = z.strictObject({
  maxBytes: positiveInt().default(100 * MiB),
  maxFiles: z.int().min(0).default(20),
  fetchTimeoutSeconds: positiveInt().default(30),
  /** Accept http(s) URLs as upload values and fetch them. */
  allowByReference: z.boolean().default(true),
});

const limitsSchema = z.strictObject({
  /** Most parameters one job may have. */
  maxParameters: positiveInt().default(100),
});

const logSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default('info'),
});

/** Placeholder the auth issue extends; strict so that unknown settings are caught now. */
const authSchema = z.strictObject({
  strategy: z.literal('anonymous').default('anonymous'),
});

/** One parameter of a configured job type; mirrors core/parameters.ts ParameterDeclaration. */
export const parameterDeclarationSchema = z.strictObject({
  name: z.string().regex(PARAMETER_NAME, 'expected a letter, then letters, digits, _, . or - (at most 64)'),
  type: z.enum(['string', 'integer', 'number', 'boolean', 'enum', 'date', 'file', 'upload']),
  description: z.string().optional(),
  required: z.boolean().optional(),
  /** Kept as text like any client value; numbers and booleans are accepted and written as text. */
  default: z
    .union([z.string(), z.number(), z.boolean()])
    .transform((v) => String(v))
    .optional(),
  multiple: z.boolean().optional(),
  values: z.array(z.string()).min(1).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  maxLength: z.int().min(1).max(MAX_PARAMETER_LENGTH).optional(),
});

export const executionDurationSchema = z.strictObject({
  default: seconds().default(DEFAULT_TIME_POLICY.executionDuration.default),
  max: seconds().default(DEFAULT_TIME_POLICY.executionDuration.max),
  allowUnlimited: z.boolean().default(DEFAULT_TIME_POLICY.executionDuration.allowUnlimited),
});

export const lifetimeSchema = z.strictObject({
  default: seconds().default(DEFAULT_TIME_POLICY.lifetime.default),
  max: seconds().default(DEFAULT_TIME_POLICY.lifetime.max),
});

/** A job type run as a child process from a command template (issue 4). */
export const jobTypeConfigSchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  parameters: z.array(parameterDeclarationSchema).default([]),
  executionDuration: executionDurationSchema.prefault({}),
  lifetime: lifetimeSchema.prefault({}),
  /** At most this many jobs of this type EXECUTING at once, over all nodes. */
  maxExecuting: positiveInt().optional(),
  /** A job interrupted by a crash goes back to QUEUED instead of ERROR. */
  restartable: z.boolean().optional(),
  /** The result the sync facade redirects to. */
  mainResult: z.string().min(1).optional(),
  /**
   * argv, not a shell line: the first element is the program. `${NAME}` is replaced
   * by the value of parameter NAME (an element that is exactly a multi-valued
   * placeholder expands to one element per value), `${WORKDIR}` by the job's
   * directory, `${OUTDIR}` by the folder whose files become results, `${JOBID}` by the job id.
   */
  command: z.array(z.string()),
  /** Extra environment of the process; values may hold placeholders too. */
  env: z.record(z.string(), z.string()).optional(),
  /** Pass the server's whole environment on (default: only PATH, HOME, locale, TZ, TMPDIR). */
  inheritEnv: z.boolean().optional(),
  /** Media types of result files by file name or extension (no dot), added to the executor's defaults. */
  resultMediaTypes: z.record(z.string(), z.string().min(1)).optional(),
  /** Between the abort signal (SIGTERM) and SIGKILL. */
  gracePeriodSeconds: z.number().min(0).max(3600).default(5),
});

export const uwsConfigSchema = z.strictObject({
  server: serverSchema.prefault({}),
  store: storeSchema.prefault({}),
  /** Root of the per-job working directories. */
  workDir: z.string().min(1).default('./var/jobs'),
  /** Unique per running process; `host-pid` lets a restart recognise its own dead leases. */
  nodeId: z
    .string()
    .min(1)
    .default(() => `${hostname()}-${process.pid}`),
  scheduler: schedulerSchema.prefault({}),
  wait: waitSchema.prefault({}),
  destruction: destructionSchema.prefault({}),
  uploads: uploadsSchema.prefault({}),
  limits: limitsSchema.prefault({}),
  log: logSchema.prefault({}),
  /** Offer the built-in demo job types. */
  builtins: z.boolean().default(true),
  jobTypes: z.array(jobTypeConfigSchema).default([]),
  auth: authSchema.prefault({}),
});

export type UwsConfig = z.output<typeof uwsConfigSchema>;
/** What a config file may contain (every key optional). */
export type UwsConfigInput = z.input<typeof uwsConfigSchema>;
export type JobTypeConfig = z.output<typeof jobTypeConfigSchema>;
export type ParameterDeclarationConfig = z.output<typeof parameterDeclarationSchema>;
