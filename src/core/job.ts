import type { Phase } from './phases.js';

/** errorSummary of a failed job (ERR-2): transient or fatal, with a message; detail at /error. */
export interface ErrorSummary {
  readonly type: 'transient' | 'fatal';
  readonly message: string;
  /** True when `/error` has more than the message (a log, a stack trace). */
  readonly hasDetail: boolean;
}

/**
 * One job parameter as the client gave it: the canonical (declared) name and the
 * value verbatim. A file-valued parameter also records where its content lies in
 * the job's working directory; it is then shown by reference (PAR-2, PAR-7).
 */
export interface JobParameter {
  readonly name: string;
  readonly value: string;
  readonly file?: StoredFile;
}

export interface StoredFile {
  /** A plain file name inside the job's working directory (no path parts). */
  readonly fileName: string;
  readonly size: number;
  readonly mediaType?: string;
}

/** One entry of the results list (RES-1..4). */
export interface JobResult {
  /** Unique within the job; also the last segment of its URL under /results. */
  readonly id: string;
  readonly mediaType: string;
  /** Bytes, when known. */
  readonly size: number | null;
  /** Where the bytes are: a file in the working directory, or an external URL. */
  readonly fileName?: string;
  readonly href?: string;
}

/** Who runs an EXECUTING job and until when that claim holds without renewal. */
export interface Lease {
  readonly nodeId: string;
  readonly expiresAt: number;
}

/**
 * A job with every UWS property. Instants are epoch milliseconds (UTC); null where
 * the standard shows xsi:nil. `version` grows by one with every stored change and
 * is what compare-and-set updates check.
 */
export interface Job {
  readonly jobId: string;
  readonly jobType: string;
  readonly runId: string | null;
  readonly ownerId: string | null;
  readonly phase: Phase;
  readonly quote: number | null;
  readonly creationTime: number;
  readonly startTime: number | null;
  readonly endTime: number | null;
  /** Seconds of wall-clock time; 0 means unlimited (OBJ-19). Fits xs:int. */
  readonly executionDuration: number;
  readonly destruction: number | null;
  readonly parameters: readonly JobParameter[];
  readonly results: readonly JobResult[];
  readonly errorSummary: ErrorSummary | null;
  /** Implementation-specific facts shown in jobInfo: flat name/value pairs. */
  readonly jobInfo: Readonly<Record<string, string>> | null;
  readonly lease: Lease | null;
  readonly version: number;
}

/** The short form listed in the job list (JL-GET-1, JL-GET-14). */
export interface JobSummary {
  readonly jobId: string;
  readonly jobType: string;
  readonly runId: string | null;
  readonly ownerId: string | null;
  readonly phase: Phase;
  readonly creationTime: number;
}

/** XML Schema xs:int upper bound: executionDuration must fit (ED-5). */
export const XS_INT_MAX = 2_147_483_647;
