import { availableParallelism, hostname } from 'node:os';
import { z } from 'zod';
import { addressList } from '../auth/proxy-header.js';
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
  /**
   * Also fetch from loopback, private and link-local addresses and localhost
   * names. Off: a client must not make the service fetch from its own network.
   */
  allowPrivateAddresses: z.boolean().default(false),
});

/** Per-request and per-owner limits (limits/settings.ts); 0 turns off those that say so. */
const limitsSchema = z.strictObject({
  /** Parameter values in one request. */
  maxParameters: positiveInt().default(100),
  /** Characters of one value; the seed's 50,000 is also the most allowed. */
  maxValueLength: positiveInt().max(MAX_PARAMETER_LENGTH).default(MAX_PARAMETER_LENGTH),
  /** File parts plus http(s) references in one request. */
  maxUploads: z.int().min(0).default(20),
  /** Job-creating requests per owner (anonymous: per client address) per minute, per node; 0: no limit. */
  jobsPerMinute: z.int().min(0).default(120),
  /** Creations allowed at once after a quiet spell; default half of jobsPerMinute. */
  jobsBurst: positiveInt().optional(),
  /** QUEUED + EXECUTING jobs per owner (anonymous jobs: one owner); 0: no limit. */
  maxActiveJobsPerOwner: z.int().min(0).default(100),
  /** Bytes of results and uploads kept per owner; 0: no limit. */
  storageQuotaBytes: z
    .int()
    .min(0)
    .default(10 * 1024 * MiB),
  /** Blocking WAITs open at once per owner, per node; 0: no limit. */
  maxWaitsPerOwner: z.int().min(0).default(10),
  /** Refused credentials per client address per minute, per node; past it 429 without checking. 0: no limit. */
  authFailuresPerMinute: z.int().min(0).default(60),
});

const logSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default('info'),
});

const filePath = () => z.string().min(1);

const jwtSchema = z
  .strictObject({
    /** Shared secret of HS256/384/512 tokens (at least 32 bytes). */
    secretFile: filePath().optional(),
    /** PEM public key of RS*, PS*, ES* or EdDSA tokens. */
    publicKeyFile: filePath().optional(),
    /** A JWKS document of public keys. */
    jwksFile: filePath().optional(),
    algorithms: z.array(z.string().min(1)).min(1).optional(),
    issuer: z.string().min(1).optional(),
    audience: z.string().min(1).optional(),
    /** The claim naming the owner. */
    ownerClaim: z.string().min(1).default('sub'),
    clockToleranceSeconds: z.int().min(0).max(3600).default(30),
  })
  .refine(
    (j) => [j.secretFile, j.publicKeyFile, j.jwksFile].filter((f) => f !== undefined).length === 1,
    'give exactly one of secretFile, publicKeyFile and jwksFile',
  );

/** Owner identification (src/auth/). Relative file paths are relative to the start directory. */
const authSchema = z
  .strictObject({
    /** Tried in order; the first that finds its kind of credentials decides. */
    strategies: z
      .array(z.enum(['anonymous', 'basic', 'bearer', 'proxy-header']))
      .min(1)
      .default(['anonymous']),
    /** Serve requests without credentials as the anonymous owner; false: 401 (VOSI stays open). */
    allowAnonymous: z.boolean().default(true),
    /** Owner ids that see and change every job. */
    admins: z.array(z.string().min(1)).default([]),
    realm: z
      .string()
      .regex(/^[ -!#-[\]-~]{1,100}$/, 'printable ASCII without quotes or backslashes')
      .default('ivoa-uws'),
    /** HTTP Basic: lines of owner:hash, bcrypt or argon2. */
    basic: z
      .strictObject({ passwordFile: filePath(), cacheSeconds: z.int().min(0).max(3600).default(60) })
      .optional(),
    /** Bearer tokens: a file of `<sha256 hex> <owner>` lines, and/or JWTs. */
    bearer: z.strictObject({ tokensFile: filePath().optional(), jwt: jwtSchema.optional() }).optional(),
    /** A header set by a reverse proxy, believed only from the listed addresses or CIDR blocks. */
    proxyHeader: z
      .strictObject({
        header: z
          .string()
          .regex(/^[A-Za-z0-9-]{1,100}$/, 'a header name')
          .default('x-remote-user'),
        trustedProxies: z
          .array(
            z.string().refine((entry) => {
              try {
                addressList([entry]);
                return true;
              } catch {
                return false;
              }
            }, 'not an IP address or CIDR block'),
          )
          .min(1),
      })
      .optional(),
  })
  .superRefine((a, ctx) => {
    const need = { basic: a.basic, bearer: a.bearer, 'proxy-header': a.proxyHeader } as const;
    for (const [name, section] of Object.entries(need)) {
      if (a.strategies.includes(name as 'basic') && section === undefined) {
        const key = name === 'proxy-header' ? 'proxyHeader' : name;
        ctx.addIssue({ code: 'custom', path: [key], message: `strategy ${name} needs auth.${key}` });
      }
    }
    if (a.strategies.includes('bearer') && a.bearer && !a.bearer.tokensFile && !a.bearer.jwt) {
      ctx.addIssue({ code: 'custom', path: ['bearer'], message: 'give tokensFile, jwt or both' });
    }
    if (!a.allowAnonymous && a.strategies.every((s) => s === 'anonymous')) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowAnonymous'],
        message: 'anonymous access is refused but no strategy identifies anyone',
      });
    }
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
