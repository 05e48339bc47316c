import { constants } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError } from '../core/errors.js';

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
// A planted FIFO would block open() for reading forever; non-blocking open returns at once.
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

/**
 * Opens a file of a job's directory for reading, refusing (as 404) a file
 * that is a link, anything but a regular file, and a job directory that is
 * itself a link: O_NOFOLLOW guards only the last component, and a job's own
 * process could have replaced its directory by a link to anywhere. The
 * directory is checked before and after the open and must be the same real
 * directory both times, which leaves no window for a swap to go unseen short
 * of swapping it back in between.
 */
export async function openJobFile(file: string): Promise<{ handle: FileHandle; size: number }> {
  const dir = path.dirname(file);
  const before = await realDirectory(dir);
  const handle = await fsp.open(file, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((err: unknown) => {
    throw notFound(err);
  });
  try {
    const after = await realDirectory(dir);
    if (after.ino !== before.ino || after.dev !== before.dev)
      throw new NotFoundError('the file is no longer there');
    const st = await handle.stat();
    if (!st.isFile()) throw new NotFoundError('the file is no longer there');
    return { handle, size: st.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function realDirectory(dir: string): Promise<{ ino: number; dev: number }> {
  const st = await fsp.lstat(dir).catch((err: unknown) => {
    throw notFound(err);
  });
  if (!st.isDirectory()) throw new NotFoundError('the file is no longer there');
  return { ino: st.ino, dev: st.dev };
}

function notFound(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ELOOP' || code === 'EMLINK' || code === 'ENOTDIR') {
    return new NotFoundError('the file is no longer there');
  }
  return err;
}
