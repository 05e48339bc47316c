import { BadRequestError } from '../core/errors.js';

/** Longest plain name accepted, in UTF-8 bytes (file systems allow 255; room for prefixes). */
export const MAX_FILE_NAME_BYTES = 200;

// Control characters (C0, DEL) include NUL; '/' and '\' are separators on some system we may run on.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const FORBIDDEN = /[\u0000-\u001f\u007f/\\]/;

/**
 * Why `name` is not a plain file name, or null if it is one. A plain name has no
 * path parts and cannot name the directory itself or its parent. Names starting
 * with a dot are refused too: that keeps hidden files out of reach and leaves the
 * dot-prefixed names free for our own temporary and staging files, which thus
 * can never collide with a job's files.
 */
export function plainFileNameProblem(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (FORBIDDEN.test(name)) return 'it contains a path separator or a control character';
  if (name.startsWith('.')) return 'it starts with a dot';
  if (Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_BYTES) {
    return `it is longer than ${MAX_FILE_NAME_BYTES} bytes`;
  }
  return null;
}

export function isPlainFileName(name: string): boolean {
  return plainFileNameProblem(name) === null;
}

/** Throws a BadRequestError naming `what` (e.g. "result id") unless `name` is a plain file name. */
export function assertPlainFileName(name: string, what: string, parameter?: string): void {
  const problem = plainFileNameProblem(name);
  if (problem !== null) {
    throw new BadRequestError(`${what} '${printable(name)}' is not allowed: ${problem}`, parameter);
  }
}

function printable(name: string): string {
  // Keep error messages one readable line whatever the client sent.
  const shown = JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
  return shown.slice(1, -1);
}
