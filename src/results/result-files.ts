import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, NotFoundError } from '../core/errors.js';
import type { JobResult } from '../core/job.js';
import type { ResultWriter } from '../exec/types.js';
import { assertPlainFileName } from './file-names.js';
import { ByteLimit, NEW_FILE_FLAGS, openNoFollow, type WorkDirs } from './workdirs.js';

/**
 * Result files are named `result-<id>` in the job's directory. The prefix keeps
 * results apart from the job's uploads (named after parameters and upload
 * tables, whose names never contain '-') and from whatever a command leaves in
 * its working directory, so one can never overwrite the other.
 */
export const RESULT_FILE_PREFIX = 'result-';

/** The file name of result `id`; throws a BadRequestError if `id` is not a plain name. */
export function resultFileName(id: string): string {
  assertPlainFileName(id, 'result id');
  const fileName = `${RESULT_FILE_PREFIX}${id}`;
  assertPlainFileName(fileName, 'result id');
  return fileName;
}

/** A ResultWriter that can also move a finished file into place without copying it. */
export interface JobResultWriter extends ResultWriter {
  /**
   * Makes `sourcePath`, a regular file inside the job's directory (e.g. in a
   * command's out/ folder), result `id` by renaming it.
   */
  adoptFile(id: string, sourcePath: string, mediaType: string): Promise<JobResult>;
}

/** True when `writer` can adopt files (the writer of createResultWriter can). */
export function canAdoptFiles(writer: ResultWriter): writer is JobResultWriter {
  return typeof (writer as Partial<JobResultWriter>).adoptFile === 'function';
}

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;[ -~]*)?$/;
const LINK_SCHEMES = new Set(['http:', 'https:', 'ftp:', 'vos:']);

/**
 * The ResultWriter for one job. Bytes go to a temporary dot-file in the job's
 * directory, which is renamed to its final name only when complete, so a reader
 * never sees half a result; then `record` stores the entry (replacing any entry
 * with the same id). Writing a result again replaces it.
 */
export function createResultWriter(
  workDirs: WorkDirs,
  jobId: string,
  record: (result: JobResult) => Promise<void>,
): JobResultWriter {
  return {
    async write(id, data, mediaType) {
      const fileName = resultFileName(id);
      checkMediaType(mediaType, id);
      const dir = await workDirs.ensure(jobId);
      const temp = path.join(dir, `.tmp-${randomBytes(12).toString('hex')}`);
      let size: number;
      try {
        size = await writeNewFile(temp, data);
        await fs.rename(temp, path.join(dir, fileName));
      } catch (e) {
        await fs.rm(temp, { force: true });
        throw e;
      }
      const result: JobResult = { id, mediaType, size, fileName };
      await record(result);
      return result;
    },

    async adoptFile(id, sourcePath, mediaType) {
      const fileName = resultFileName(id);
      checkMediaType(mediaType, id);
      const dir = await workDirs.ensure(jobId);
      const source = path.resolve(sourcePath);
      // Only files of this job's own directory tree, reached without links, may become results.
      const realDir = await fs.realpath(dir);
      const realParent = await fs.realpath(path.dirname(source));
      if (realParent !== realDir && !realParent.startsWith(realDir + path.sep)) {
        throw new Error(`${sourcePath} is outside the working directory of job ${jobId}`);
      }
      const st = await fs.lstat(source);
      if (!st.isFile()) throw new Error(`${sourcePath} is not a regular file`);
      await fs.rename(source, path.join(dir, fileName));
      const result: JobResult = { id, mediaType, size: st.size, fileName };
      await record(result);
      return result;
    },

    async link(id, href, mediaType, size) {
      assertPlainFileName(id, 'result id');
      checkMediaType(mediaType, id);
      let url: URL;
      try {
        url = new URL(href);
      } catch {
        throw new BadRequestError(`result ${id}: '${href.slice(0, 80)}' is not an absolute URL`);
      }
      if (!LINK_SCHEMES.has(url.protocol)) {
        throw new BadRequestError(
          `result ${id}: links must be http, https, ftp or vos URLs, not ${url.protocol}`,
        );
      }
      if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
        throw new BadRequestError(`result ${id}: size ${size} is not a byte count`);
      }
      const result: JobResult = { id, mediaType, size: size ?? null, href: url.href };
      await record(result);
      return result;
    },
  };
}

/**
 * Opens a stored result for serving. A result that lives elsewhere (href), a
 * missing file, a symbolic link or anything but a regular file is a NotFoundError.
 * `range` (inclusive byte offsets) serves part of the file.
 */
export async function openResult(
  workDirs: WorkDirs,
  jobId: string,
  result: JobResult,
  range?: { start: number; end?: number },
): Promise<{ stream: Readable; size: number }> {
  if (!result.fileName) {
    throw new NotFoundError(
      `result ${result.id} is not stored here${result.href ? `: see ${result.href}` : ''}`,
    );
  }
  const { handle, size } = await workDirs.openForReading(jobId, result.fileName);
  const stream = handle.createReadStream(range ? { start: range.start, end: range.end ?? Infinity } : {});
  return { stream, size };
}

/** Writes a new file (it must not exist) from a string, bytes or a stream; returns its size. */
async function writeNewFile(file: string, data: string | Uint8Array | Readable): Promise<number> {
  const handle = await openNoFollow(file, NEW_FILE_FLAGS, 0o600);
  if (typeof data === 'string' || data instanceof Uint8Array) {
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      await handle.writeFile(bytes);
      return bytes.byteLength;
    } finally {
      await handle.close();
    }
  }
  const counter = new ByteLimit(Number.POSITIVE_INFINITY);
  // The write stream closes the handle when it finishes or fails.
  await pipeline(data, counter, handle.createWriteStream());
  return counter.bytes;
}

function checkMediaType(mediaType: string, id: string): void {
  if (mediaType.length > 255 || !MEDIA_TYPE.test(mediaType)) {
    throw new BadRequestError(`result ${id}: '${mediaType.slice(0, 80)}' is not a media type`);
  }
}
