/** Per-owner and per-request limits (the config's `limits` section). 0 turns a limit off where noted. */
export interface LimitSettings {
  /** Parameter values in one request (every name=value pair counts). */
  readonly maxParameters: number;
  /** Characters of any one value, control parameters included (the seed's 50,000). */
  readonly maxValueLength: number;
  /** Uploads in one request: file parts plus http(s) references to fetch. */
  readonly maxUploads: number;
  /** Job-creating requests per owner per minute (0: no limit); anonymous callers count per client address. */
  readonly jobsPerMinute: number;
  /** How many of those may come at once after a quiet spell (default: jobsPerMinute / 2, at least 1). */
  readonly jobsBurst?: number;
  /** QUEUED plus EXECUTING jobs per owner (0: no limit); anonymous jobs count as one owner. */
  readonly maxActiveJobsPerOwner: number;
  /** Bytes of results and uploads an owner may keep (0: no limit); anonymous jobs count as one owner. */
  readonly storageQuotaBytes: number;
  /** Blocking WAITs (and sync waits) open at once per owner, per node (0: no limit). */
  readonly maxWaitsPerOwner: number;
  /** Refused credentials per client address per minute, per node (0: no limit); checked by the HTTP guard. */
  readonly authFailuresPerMinute?: number;
}

const GiB = 1024 * 1024 * 1024;

export const DEFAULT_LIMITS: LimitSettings = {
  maxParameters: 100,
  maxValueLength: 50_000,
  maxUploads: 20,
  jobsPerMinute: 120,
  maxActiveJobsPerOwner: 100,
  storageQuotaBytes: 10 * GiB,
  maxWaitsPerOwner: 10,
};
