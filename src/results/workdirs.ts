import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, NotFoundError, PayloadTooLargeError } from '../core/errors.js';
import { isWellFormedJobId } from '../core/ids.js';
import { assertPlainFileName } from './file-names.js';

/** Incoming uploads are spooled here first; a dot name can never be a job id. */
const STAGING_DIR = '.staging';
const STAGED_NAME = /^\d+-[0-9a-f]{24}\.part$/;

// Where the platform has no O_NOFOLLOW (Windows), an lstat check before opening stands in for it.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
// A planted FIFO would block open() for reading forever; non-blocking open returns at once.
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

export interface StagedUpload {
  /** Absolute path of the spooled file under the staging directory. */
  readonly path: string;
  readonly size: number;
}

/**
 * The per-job working directories under one root: `<root>/<jobId>/` holds a
 * job's uploads and results, `<root>/.staging/` holds uploads still arriving.
 * Every file name that reaches here from outside is checked to be a plain name
 * and files are opened without following symbolic links, so nothing outside a
 * job's own directory is ever read or written on a client's behalf.
 */
export class WorkDirs {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** The job's directory (which need not exist yet). */
  path(jobId: string): string {
    if (!isWellFormedJobId(jobId)) {
      throw new BadRequestError(`'${jobId.slice(0, 80)}' is not a well-formed job id`);
    }
    return path.join(this.root, jobId);
  }

  /** Creates the job's directory (mode 0700) if needed and returns its path. */
  async ensure(jobId: string): Promise<string> {
    const dir = this.path(jobId);
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    try {
      await fs.mkdir(dir, { mode: 0o700 });
    } catch (e) {
      if (errorCode(e) !== 'EEXIST') throw e;
    }
    await assertRealDirectory(dir);
    return dir;
  }

  /** Removes the job's directory and everything in it; fine if it does not exist. */
  async remove(jobId: string): Promise<void> {
    // rm removes symbolic links themselves and never descends through them.
    // A run still winding down may add a file while the tree goes: retry instead of failing on ENOTEMPTY.
    await fs.rm(this.path(jobId), { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }

  /** Ids of all jobs that have a directory, for the orphan-directory cleaner. */
  async listJobIds(): Promise<string[]> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(this.root, { withFileTypes: true });
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return [];
      throw e;
    }
    return entries.filter((d) => d.isDirectory() && isWellFormedJobId(d.name)).map((d) => d.name);
  }

  /** Absolute path of `fileName` in the job's directory; refuses anything but a plain file name. */
  filePath(jobId: string, fileName: string): string {
    assertPlainFileName(fileName, 'file name');
    return path.join(this.path(jobId), fileName);
  }

  /**
   * Opens a file of the job's directory for reading. A missing file, a symbolic
   * link or anything but a regular file is "not found": the caller serves a 404.
   * The caller closes the handle (a read stream made from it closes it at its end).
   */
  async openForReading(jobId: string, fileName: string): Promise<{ handle: FileHandle; size: number }> {
    const file = this.filePath(jobId, fileName);
    try {
      await assertRealDirectory(this.path(jobId));
    } catch (e) {
      if (errorCode(e) === 'ENOENT') throw new NotFoundError(`job ${jobId} has no files`);
      throw e;
    }
    const handle = await openNoFollow(file, constants.O_RDONLY | O_NONBLOCK).catch((e: unknown) => {
      throw notFoundFor(e, fileName);
    });
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new NotFoundError(`${fileName} is not a regular file`);
      return { handle, size: st.size };
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Where uploads are spooled before they belong to a job. */
  stageDir(): string {
    return path.join(this.root, STAGING_DIR);
  }

  /**
   * Spools an incoming upload to a new file in the staging directory, counting
   * bytes as they pass. Past `limitBytes` it stops with a PayloadTooLargeError
   * and removes the partial file; any other failure removes it too.
   */
  async stageUpload(
    stream: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    limitBytes: number,
    signal?: AbortSignal,
  ): Promise<StagedUpload> {
    const dir = this.stageDir();
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${Date.now()}-${randomBytes(12).toString('hex')}.part`);
    const counter = new ByteLimit(limitBytes);
    try {
      const handle = await openNoFollow(file, NEW_FILE_FLAGS, 0o600);
      await pipeline(stream, counter, handle.createWriteStream(), ...(signal ? [{ signal }] : []));
      return { path: file, size: counter.bytes };
    } catch (e) {
      await fs.rm(file, { force: true });
      throw e;
    }
  }

  /** Moves a staged upload into the job's directory as `fileName` (replacing a file of that name). */
  async adopt(jobId: string, stagedPath: string, fileName: string): Promise<void> {
    assertPlainFileName(fileName, 'file name');
    const staged = this.checkStaged(stagedPath);
    const dir = await this.ensure(jobId);
    await fs.rename(staged, path.join(dir, fileName));
  }

  /** Removes a staged upload that will not be used; fine if it is already gone. */
  async discard(stagedPath: string): Promise<void> {
    await fs.rm(this.checkStaged(stagedPath), { force: true });
  }

  /** Removes staged files last modified more than `olderThanMs` ago (uploads of crashed requests). */
  async stagingSweep(olderThanMs: number, now: number = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.stageDir());
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return 0;
      throw e;
    }
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.stageDir(), name);
      const st = await fs.lstat(file).catch(() => null);
      if (st && st.mtimeMs < now - olderThanMs) {
        await fs.rm(file, { force: true, recursive: true });
        removed++;
      }
    }
    return removed;
  }

  private checkStaged(stagedPath: string): string {
    const resolved = path.resolve(stagedPath);
    if (path.dirname(resolved) !== this.stageDir() || !STAGED_NAME.test(path.basename(resolved))) {
      throw new Error(`${stagedPath} is not a staged upload of ${this.root}`);
    }
    return resolved;
  }
}

/** Flags for a file that must not exist yet and must not be reached through a link. */
export const NEW_FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW;

/** Opens `file` without following a symbolic link in its last component. */
export async function openNoFollow(file: string, flags: number, mode?: number): Promise<FileHandle> {
  if (O_NOFOLLOW === 0) {
    const st = await fs.lstat(file).catch(() => null);
    if (st?.isSymbolicLink()) throw Object.assign(new Error(`${file} is a symbolic link`), { code: 'ELOOP' });
  }
  return fs.open(file, flags | O_NOFOLLOW, mode);
}

/** Refuses a job directory that was replaced by a symbolic link or a file. */
export async function assertRealDirectory(dir: string): Promise<void> {
  const st = await fs.lstat(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a symbolic link or a file)`);
}

/** Passes bytes through, failing with PayloadTooLargeError once more than `limit` went by. */
export class ByteLimit extends Transform {
  bytes = 0;
  private readonly limit: number;

  constructor(limit: number) {
    super();
    this.limit = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(new PayloadTooLargeError(`the upload exceeds the limit of ${this.limit} bytes`));
      return;
    }
    callback(null, chunk);
  }
}

function notFoundFor(e: unknown, fileName: string): unknown {
  const code = errorCode(e);
  if (code === 'ENOENT') return new NotFoundError(`${fileName} does not exist`);
  // Linux reports ELOOP for a symbolic link under O_NOFOLLOW; some BSDs report EMLINK.
  if (code === 'ELOOP' || code === 'EMLINK') return new NotFoundError(`${fileName} is a symbolic link`);
  return e;
}

export function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e
    ? String((e as { code: unknown }).code)
    : undefined;
}
