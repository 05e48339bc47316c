import type { WorkDirs } from '../results/workdirs.js';
import type { Stager } from './input.js';

/**
 * The production stager: file parts go to the working directories' staging area
 * through WorkDirs.stageUpload, which stops with 413 past `maxBytes`.
 */
export function workDirStager(workDirs: WorkDirs, maxBytes: number): Stager {
  return async (stream, partName, mediaType) => {
    const staged = await workDirs.stageUpload(stream, maxBytes);
    return { partName, path: staged.path, size: staged.size, ...(mediaType ? { mediaType } : {}) };
  };
}
